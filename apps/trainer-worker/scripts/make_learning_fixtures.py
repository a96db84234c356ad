"""Writes the end-to-end test's learnings: apps/e2e/fixtures/{rule-family,no-signal}.jsonl.

Deterministic (a fixed seed, no clock): running it again gives the same bytes, and
tests/test_learnability.py checks that the committed files are what this script writes.

Each line is one learning in the gateway's input shape (libs/contracts/schemas/api/
learning-input.schema.json), every one distinct after the learner's normalisation:

- rule-family.jsonl: one rule, many surface forms — "compare with None using `is` / `is not`,
  never `==` / `!=`" — over 16 names × 15 one-line templates (every pair once, shuffled). The
  context is the code the model wrote, the correction is the same code with the rule applied, so
  a held-out learning (a name/template pair never trained on) is derivable from its context: a
  model that learned the rule (and to copy the name) gets it right, one that memorised strings
  does not. 112 learnings are `== None` and 128 `!= None`: apps/e2e's improvement-loop test feeds
  the two halves as two lessons (a model trained on the first alone fails the second).
- no-signal.jsonl: corrections unrelated to their contexts (random assignments): nothing carries
  over to held-out learnings, so training on them must not look like an improvement.

tests/test_learnability.py proves both with the worker's real training and evaluation code.

Usage: apps/trainer-worker/.venv/bin/python apps/trainer-worker/scripts/make_learning_fixtures.py
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

SEED = 20261121
RULE_FAMILY_SIZE = 240
NO_SIGNAL_SIZE = 120
OUT_DIR = Path(__file__).resolve().parents[2] / "e2e" / "fixtures"
SOURCE = "e2e-fixture"

# Identifiers that the tiny model's tokenizer keeps whole after a space (one token each).
NAMES = [
    "add",
    "count",
    "data",
    "div",
    "err",
    "id",
    "index",
    "items",
    "mul",
    "name",
    "result",
    "self",
    "sub",
    "total",
    "users",
    "value",
]

# (code with the bug, its correction); {v} is a variable name. One line, one name each: the rule
# is the only thing to learn besides copying the name.
TEMPLATES = [
    ("if {v} == None:", "if {v} is None:"),
    ("if {v} != None:", "if {v} is not None:"),
    ("elif {v} == None:", "elif {v} is None:"),
    ("elif {v} != None:", "elif {v} is not None:"),
    ("while {v} == None:", "while {v} is None:"),
    ("while {v} != None:", "while {v} is not None:"),
    ("return {v} == None", "return {v} is None"),
    ("return {v} != None", "return {v} is not None"),
    ("assert {v} == None", "assert {v} is None"),
    ("assert {v} != None", "assert {v} is not None"),
    ("missing = {v} == None", "missing = {v} is None"),
    ("found = {v} != None", "found = {v} is not None"),
    ("if {v}.parent == None:", "if {v}.parent is None:"),
    ("if {v}[0] != None:", "if {v}[0] is not None:"),
    ("return {v}.parent != None", "return {v}.parent is not None"),
]

# no-signal: a context and a correction drawn independently.
VERBS = ["load", "parse", "send", "build", "read", "write", "check", "merge", "split", "close"]


def rule_family(size: int = RULE_FAMILY_SIZE, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    combos = list(itertools.product(TEMPLATES, NAMES))
    rng.shuffle(combos)
    if size > len(combos):
        raise ValueError(f"only {len(combos)} distinct rule-family learnings")
    return [
        learning(context=wrong.format(v=name), correction=right.format(v=name))
        for (wrong, right), name in combos[:size]
    ]


def no_signal(size: int = NO_SIGNAL_SIZE, seed: int = SEED + 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    while len(out) < size:
        context = f"{rng.choice(NAMES)} = {rng.choice(VERBS)}({rng.choice(NAMES)})"
        correction = f"{rng.choice(NAMES)} = {rng.randrange(1000)}"
        if (context, correction) in seen:
            continue
        seen.add((context, correction))
        out.append(learning(context=context, correction=correction))
    return out


def learning(*, context: str, correction: str) -> dict[str, Any]:
    return {
        "kind": "correction",
        "source": SOURCE,
        "language": "python",
        "context": context,
        "correction": correction,
    }


def render(learnings: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, sort_keys=True) + "\n" for item in learnings)


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, learnings in (("rule-family", rule_family()), ("no-signal", no_signal())):
        path = OUT_DIR / f"{name}.jsonl"
        path.write_text(render(learnings), encoding="utf-8")
        print(f"{path}: {len(learnings)} learnings")


if __name__ == "__main__":
    main()
