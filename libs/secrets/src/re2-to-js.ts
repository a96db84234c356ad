/**
 * Translates an RE2 (Go regexp) pattern into JavaScript RegExp source with the same matches.
 *
 * Why: gitleaks' rules are RE2 patterns; a native or WebAssembly RE2 in Node costs 20-30x the CPU of V8's
 * engine per rule (measured: re2-wasm 1.0.2, 2.5 ms vs 0.1 ms for the generic rule over 4 KB), and the scan is
 * on the learner's hot path. Both engines pick the leftmost-first match with the same preference order, so a
 * faithful translation of the syntax gives the same matches; libs/secrets checks that against re2-wasm in its
 * spec, over every rule and the secret corpus.
 *
 * What differs in syntax and how it is translated:
 * - Inline flags `(?i)`, `(?s)`, `(?-i)`, `(?i:…)`: Node 20 has no regex modifiers, so case-insensitivity is
 *   expanded where it applies (a letter becomes `[aA]`, a class gains the other case of its letters and
 *   ranges) and `.` under `s` becomes `[\s\S]`. The result never uses the `i` or `s` flag.
 * - `.` without `s` matches anything but "\n" in RE2 (JS also excludes "\r", U+2028, U+2029): `[^\n]`.
 * - `\z` (end of text) becomes `(?![\s\S])`, `\A` becomes `^`; `^` and `$` mean the same without `m`.
 * - `(?P<name>` becomes `(?<name>`; POSIX classes `[[:alnum:]]` are expanded.
 * - `\s` is [\t\n\f\r ] in RE2 and also matches other Unicode spaces in JS: a superset, kept on purpose (a
 *   secret delimited by a no-break space is still found).
 * Anything else RE2-specific (`\Q…\E`, `\p{…}`, `\x{…}`, `\C`, flags other than i/s) throws, so a new rule
 * that needs more support fails the spec instead of being skipped.
 */
export function re2ToJs(pattern: string): string {
  return new Translator(pattern).translate();
}

interface Flags {
  i: boolean;
  s: boolean;
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  digit: '0-9',
  lower: 'a-z',
  upper: 'A-Z',
  space: '\\t\\n\\v\\f\\r ',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  punct: '!-\\/:-@\\[-`{-~',
};

const SHORTHAND = new Set(['d', 'D', 'w', 'W', 's', 'S']);
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12, v: 11 };

class Translator {
  private pos = 0;
  private readonly stack: Flags[] = [{ i: false, s: false }];

  constructor(private readonly src: string) {}

  translate(): string {
    let out = '';
    while (this.pos < this.src.length) out += this.next();
    if (this.stack.length !== 1) throw new Error(`unbalanced group in ${this.src}`);
    return out;
  }

  private get flags(): Flags {
    return this.stack[this.stack.length - 1]!;
  }

  private fail(what: string): never {
    throw new Error(`unsupported RE2 syntax (${what}) at ${this.pos} in ${this.src}`);
  }

  private next(): string {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '\\':
        return this.escape();
      case '[':
        return this.charClass();
      case '(':
        return this.openGroup();
      case ')':
        if (this.stack.length === 1) this.fail('unbalanced )');
        this.stack.pop();
        return ')';
      case '.':
        return this.flags.s ? '[\\s\\S]' : '[^\\n]';
      case '{': {
        // A repeat count: copied as is (digits and a comma, nothing case-sensitive).
        const end = this.src.indexOf('}', this.pos);
        if (end === -1 || !/^\d+(,\d*)?$/.test(this.src.slice(this.pos, end))) return '\\{';
        const body = this.src.slice(this.pos, end);
        this.pos = end + 1;
        return `{${body}}`;
      }
      default:
        return this.flags.i ? caseFolded(c) : c;
    }
  }

  private escape(): string {
    const c = this.src[this.pos++];
    if (c === undefined) this.fail('trailing backslash');
    if (c === 'z') return '(?![\\s\\S])';
    if (c === 'A') return '^';
    if (c === 'b' || c === 'B' || SHORTHAND.has(c) || c in SIMPLE_ESCAPES) return `\\${c}`;
    if (c === 'x') return `\\x${this.hexByte()}`;
    if (/[A-Za-z0-9]/.test(c)) this.fail(`\\${c}`);
    return `\\${c}`;
  }

  private hexByte(): string {
    const hex = this.src.slice(this.pos, this.pos + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail('\\x without two hex digits');
    this.pos += 2;
    return hex;
  }

  private openGroup(): string {
    if (this.src[this.pos] !== '?') {
      this.stack.push({ ...this.flags });
      return '(';
    }
    this.pos++;
    const rest = this.src.slice(this.pos);
    const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      this.stack.push({ ...this.flags });
      return `(?<${named[1]}>`;
    }
    const flagGroup = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (!flagGroup) this.fail('group kind');
    this.pos += flagGroup[0].length;
    const flags = { ...this.flags };
    for (const [letters, on] of [
      [flagGroup[1] ?? '', true],
      [flagGroup[2] ?? '', false],
    ] as const) {
      for (const f of letters) {
        if (f === 'i') flags.i = on;
        else if (f === 's') flags.s = on;
        else this.fail(`flag ${f}`);
      }
    }
    if (flagGroup[3] === ')') {
      // `(?i)`: applies to the rest of the enclosing group.
      this.stack[this.stack.length - 1] = flags;
      return '';
    }
    this.stack.push(flags);
    return '(?:';
  }

  /** Translates a class after its `[`, expanding POSIX classes and, under `i`, both cases. */
  private charClass(): string {
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const parts: string[] = [];
    const ranges: Array<[number, number]> = [];
    let first = true;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.fail('unterminated class');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (this.src.startsWith('[:', this.pos)) {
        const end = this.src.indexOf(':]', this.pos + 2);
        const name = end === -1 ? '' : this.src.slice(this.pos + 2, end);
        const expansion = POSIX_CLASSES[name];
        if (!expansion) this.fail(`POSIX class ${name}`);
        this.pos = end + 2;
        // Re-translate the expansion as class items so `i` applies to it too.
        const inner = new Translator(`[${expansion}]`);
        inner.stack[0] = { ...this.flags };
        parts.push(inner.translate().slice(1, -1));
        continue;
      }
      const lo = this.classAtom();
      if (lo.kind === 'shorthand') {
        parts.push(lo.text);
        continue;
      }
      if (
        this.src[this.pos] === '-' &&
        this.src[this.pos + 1] !== ']' &&
        this.src[this.pos + 1] !== undefined
      ) {
        this.pos++;
        const hi = this.classAtom();
        if (hi.kind === 'shorthand') this.fail('range to a shorthand class');
        if (hi.code < lo.code) this.fail('reversed range');
        ranges.push([lo.code, hi.code]);
      } else {
        ranges.push([lo.code, lo.code]);
      }
    }
    if (this.flags.i) ranges.push(...ranges.flatMap(otherCase));
    const body =
      parts.join('') +
      ranges.map(([a, b]) => (a === b ? classChar(a) : `${classChar(a)}-${classChar(b)}`)).join('');
    return `[${negated ? '^' : ''}${body}]`;
  }

  private classAtom(): { kind: 'char'; code: number } | { kind: 'shorthand'; text: string } {
    const c = this.src[this.pos++]!;
    if (c !== '\\') return { kind: 'char', code: c.codePointAt(0)! };
    const e = this.src[this.pos++];
    if (e === undefined) this.fail('trailing backslash in class');
    if (SHORTHAND.has(e)) return { kind: 'shorthand', text: `\\${e}` };
    if (e in SIMPLE_ESCAPES) return { kind: 'char', code: SIMPLE_ESCAPES[e]! };
    if (e === 'x') return { kind: 'char', code: parseInt(this.hexByte(), 16) };
    if (/[A-Za-z0-9]/.test(e)) this.fail(`\\${e} in class`);
    return { kind: 'char', code: e.codePointAt(0)! };
  }
}

/** A letter as a two-case class; anything else unchanged. */
function caseFolded(c: string): string {
  const lower = c.toLowerCase();
  const upper = c.toUpperCase();
  if (lower === upper || !/^[A-Za-z]$/.test(c)) return c;
  return `[${lower}${upper}]`;
}

/** The other-case counterparts of the ASCII letters in [lo, hi]. */
function otherCase([lo, hi]: [number, number]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const add = (from: number, to: number, shift: number) => {
    const a = Math.max(lo, from);
    const b = Math.min(hi, to);
    if (a <= b) out.push([a + shift, b + shift]);
  };
  add(0x61, 0x7a, -0x20); // a-z -> A-Z
  add(0x41, 0x5a, 0x20); // A-Z -> a-z
  return out;
}

/** One code point written so that it means itself inside a JS class (non-unicode mode). */
function classChar(code: number): string {
  const c = String.fromCodePoint(code);
  if (/[A-Za-z0-9 _!"#%&',:;<=>@`~]/.test(c)) return c;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  throw new Error(`code point ${code} outside the BMP in a class`);
}
