"""The one text normalisation of Genesis: the twin of libs/contracts/src/normalise.ts.

Both implementations must give every expected output in
libs/contracts/fixtures/normalisation-vectors.json (tests/test_normalise.py here, normalise.spec.ts
there), so neither can drift alone (ADR 0016).

- normalise_text: "the same text" for duplicates (the learner's content hash) and exact match (the
  evaluation): NFC, CRLF/CR → LF, trailing whitespace of every line, leading/trailing blank lines.
- canonical_code: "the same code" for decontamination: normalise_text, then comments dropped,
  whitespace ignored, string and number literals kept verbatim, keywords kept, every other
  identifier replaced by a placeholder numbered by first appearance ($1, $2, ...). Coarse on
  purpose: it may keep out an example that was not a copy, never a spaced, commented or renamed copy.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata

HASH_COMMENT_LANGUAGES = frozenset(
    "python py ruby rb shell sh bash zsh r perl yaml toml makefile dockerfile powershell elixir julia"
    " nim crystal".split()
)
SLASH_COMMENT_LANGUAGES = frozenset(
    "javascript js jsx typescript ts tsx java c cpp c++ csharp c# cs go rust rs swift kotlin kt scala"
    " dart groovy objective-c zig solidity".split()
)

CANONICAL_KEYWORDS = frozenset(
    # Python
    "False None True and as assert async await break class continue def del elif else except finally"
    " for from global if import in is lambda nonlocal not or pass raise return try while with yield"
    # JavaScript / TypeScript (those not above)
    " case catch const debugger default delete do export extends false function instanceof let new null"
    " of static super switch this throw true typeof undefined var void interface type enum implements"
    " private protected public readonly".split()
)

_WHITESPACE = frozenset(" \t\n\r\f\v\u00a0")
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$")
_IDENT_PART = _IDENT_START | frozenset("0123456789")


def normalise_text(text: str) -> str:
    lines = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # str.rstrip() and JavaScript's trimEnd() differ on a few exotic characters; the vectors pin the
    # common ones (spaces, tabs, no-break space).
    return "\n".join(line.rstrip() for line in lines).strip()


def comment_style(language: str | None) -> str:
    """'hash', 'slash', or 'both' for an unknown language (coarser, never finer)."""
    name = (language or "").strip().lower()
    if name in HASH_COMMENT_LANGUAGES:
        return "hash"
    if name in SLASH_COMMENT_LANGUAGES:
        return "slash"
    return "both"


def _string_end(text: str, i: int, quote: str) -> int:
    j = i + len(quote)
    multiline = len(quote) == 3 or quote == "`"
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text.startswith(quote, j):
            return j + len(quote)
        if text[j] == "\n" and not multiline:
            return j  # unterminated: the line ends it
        j += 1
    return len(text)


LEVELS = ("identifiers", "layout")  # see NormalisationLevel in normalise.ts


def canonical_tokens(text: str, language: str | None = None, level: str = "identifiers") -> list[str]:
    chars = normalise_text(text)
    style = comment_style(language)
    hash_comments, slash_comments = style != "slash", style != "hash"
    names: dict[str, str] = {}
    tokens: list[str] = []
    i, n = 0, len(chars)
    while i < n:
        c = chars[i]
        if c in _WHITESPACE:
            i += 1
        elif hash_comments and c == "#":
            newline = chars.find("\n", i)
            i = n if newline < 0 else newline
        elif slash_comments and chars.startswith("//", i):
            newline = chars.find("\n", i)
            i = n if newline < 0 else newline
        elif slash_comments and chars.startswith("/*", i):
            close = chars.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif c in "\"'`":
            quote = c * 3 if c != "`" and chars.startswith(c * 3, i) else c
            end = _string_end(chars, i, quote)
            tokens.append(chars[i:end])
            i = end
        elif c in _IDENT_START:
            j = i + 1
            while j < n and chars[j] in _IDENT_PART:
                j += 1
            word = chars[i:j]
            if level == "layout" or word in CANONICAL_KEYWORDS:
                tokens.append(word)
            else:
                tokens.append(names.setdefault(word, f"${len(names) + 1}"))
            i = j
        elif "0" <= c <= "9":
            j = i + 1
            while j < n and (chars[j] in _IDENT_PART or chars[j] == "."):
                j += 1
            tokens.append(chars[i:j])
            i = j
        else:
            tokens.append(c)
            i += 1
    return tokens


def canonical_code(text: str, language: str | None = None, level: str = "identifiers") -> str:
    return " ".join(canonical_tokens(text, language, level))


def decontamination_key(item: dict, level: str = "identifiers") -> str:
    """sha256 (hex) of the canonical context and correction (never the model output): equal for an
    item and its variants with other spacing, comments or consistently renamed identifiers."""
    language = item.get("language")
    payload = json.dumps(
        [
            "genesis.decontamination.v1",
            level,
            canonical_code(item.get("context") or "", language, level),
            canonical_code(item["correction"], language, level),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def correction_key(item: dict, level: str = "identifiers") -> str:
    """sha256 (hex) of the canonical correction alone: teaching an item's answer under another prompt
    leaks it as much as a copy of the item does."""
    payload = json.dumps(
        [
            "genesis.decontamination.correction.v1",
            level,
            canonical_code(item["correction"], item.get("language"), level),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
