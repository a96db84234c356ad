import { createHash } from 'node:crypto';

/**
 * The one text normalisation of Genesis, shared with the Python worker
 * (apps/trainer-worker/src/trainer_worker/normalise.py) through the test vectors in
 * libs/contracts/fixtures/normalisation-vectors.json: both implementations must give every
 * vector's expected output, so a change to either fails the other's tests (ADR 0016).
 *
 * Two levels:
 * - `normaliseText`: what "the same text" means for duplicate detection (the learner's content
 *   hash) and exact match (the evaluation): NFC, CRLF/CR → LF, trailing whitespace of every line,
 *   leading/trailing blank lines. Indentation and every other character count.
 * - `canonicalCode`: what "the same code" means for decontamination: `normaliseText`, then
 *   comments dropped, whitespace ignored, string and number literals kept verbatim, keywords kept,
 *   every other identifier replaced by a placeholder numbered by first appearance (`$1`, `$2`…).
 *   Deliberately coarse: it may keep a training example out that was not a copy (a lost example),
 *   never the reverse for the variants it names (spacing, comments, consistent renaming).
 */

export function normaliseText(s: string): string {
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

type CommentStyle = 'hash' | 'slash' | 'both';

const HASH_COMMENT_LANGUAGES = new Set([
  'python',
  'py',
  'ruby',
  'rb',
  'shell',
  'sh',
  'bash',
  'zsh',
  'r',
  'perl',
  'yaml',
  'toml',
  'makefile',
  'dockerfile',
  'powershell',
  'elixir',
  'julia',
  'nim',
  'crystal',
]);
const SLASH_COMMENT_LANGUAGES = new Set([
  'javascript',
  'js',
  'jsx',
  'typescript',
  'ts',
  'tsx',
  'java',
  'c',
  'cpp',
  'c++',
  'csharp',
  'c#',
  'cs',
  'go',
  'rust',
  'rs',
  'swift',
  'kotlin',
  'kt',
  'scala',
  'dart',
  'groovy',
  'objective-c',
  'zig',
  'solidity',
]);

/** Comment syntax by language; an unknown language drops both kinds (coarser, never finer). */
export function commentStyle(language: string | null | undefined): CommentStyle {
  const l = (language ?? '').trim().toLowerCase();
  if (HASH_COMMENT_LANGUAGES.has(l)) return 'hash';
  if (SLASH_COMMENT_LANGUAGES.has(l)) return 'slash';
  return 'both';
}

/** Python and JavaScript/TypeScript keywords and literals: kept, so `if` never equals `while`. */
export const CANONICAL_KEYWORDS: ReadonlySet<string> = new Set([
  // Python
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
  // JavaScript / TypeScript (those not above)
  'case',
  'catch',
  'const',
  'debugger',
  'default',
  'delete',
  'do',
  'export',
  'extends',
  'false',
  'function',
  'instanceof',
  'let',
  'new',
  'null',
  'of',
  'static',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'typeof',
  'undefined',
  'var',
  'void',
  'interface',
  'type',
  'enum',
  'implements',
  'private',
  'protected',
  'public',
  'readonly',
]);

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v', '\u00a0']);
const isIdentStart = (c: string) => /^[A-Za-z_$]$/.test(c);
const isIdentPart = (c: string) => /^[A-Za-z0-9_$]$/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Index just past the end of the line that `i` is on (its newline is whitespace anyway). */
function lineEnd(chars: string[], i: number): number {
  while (i < chars.length && chars[i] !== '\n') i++;
  return i;
}

function startsWith(chars: string[], i: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (chars[i + k] !== s[k]) return false;
  return true;
}

/** End (exclusive) of the string literal opening at `i` with `quote` (1 or 3 characters). */
function stringEnd(chars: string[], i: number, quote: string): number {
  let j = i + quote.length;
  const multiline = quote.length === 3 || quote === '`';
  while (j < chars.length) {
    if (chars[j] === '\\') {
      j += 2;
      continue;
    }
    if (startsWith(chars, j, quote)) return j + quote.length;
    if (chars[j] === '\n' && !multiline) return j; // unterminated: the line ends it
    j++;
  }
  return chars.length;
}

/**
 * How far decontamination normalises (GENESIS_DECONTAMINATION_LEVEL): `identifiers` (the default)
 * also renames identifiers; `layout` stops at whitespace and comments, for data whose very lesson
 * is "the same line with another name" (the e2e's rule family: ADR 0016).
 */
export type NormalisationLevel = 'identifiers' | 'layout';
export const NORMALISATION_LEVELS: readonly NormalisationLevel[] = ['identifiers', 'layout'];

/** The canonical token sequence of a piece of code (see the module comment). */
export function canonicalTokens(
  text: string,
  language?: string | null,
  level: NormalisationLevel = 'identifiers',
): string[] {
  // Code points, not UTF-16 units, so that Python (which iterates code points) agrees.
  const chars = Array.from(normaliseText(text));
  const style = commentStyle(language);
  const hash = style !== 'slash';
  const slash = style !== 'hash';
  const names = new Map<string, string>();
  const tokens: string[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (WHITESPACE.has(c)) {
      i++;
    } else if (hash && c === '#') {
      i = lineEnd(chars, i);
    } else if (slash && startsWith(chars, i, '//')) {
      i = lineEnd(chars, i);
    } else if (slash && startsWith(chars, i, '/*')) {
      let j = i + 2;
      while (j < chars.length && !startsWith(chars, j, '*/')) j++;
      i = Math.min(chars.length, j + 2);
    } else if (c === '"' || c === "'" || c === '`') {
      const quote = c !== '`' && startsWith(chars, i, c.repeat(3)) ? c.repeat(3) : c;
      const end = stringEnd(chars, i, quote);
      tokens.push(chars.slice(i, end).join(''));
      i = end;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < chars.length && isIdentPart(chars[j]!)) j++;
      const word = chars.slice(i, j).join('');
      if (level === 'layout' || CANONICAL_KEYWORDS.has(word)) tokens.push(word);
      else {
        if (!names.has(word)) names.set(word, `$${names.size + 1}`);
        tokens.push(names.get(word)!);
      }
      i = j;
    } else if (isDigit(c)) {
      let j = i + 1;
      while (j < chars.length && (isIdentPart(chars[j]!) || chars[j] === '.')) j++;
      tokens.push(chars.slice(i, j).join(''));
      i = j;
    } else {
      tokens.push(c);
      i++;
    }
  }
  return tokens;
}

export function canonicalCode(
  text: string,
  language?: string | null,
  level: NormalisationLevel = 'identifiers',
): string {
  return canonicalTokens(text, language, level).join(' ');
}

/** What decontamination compares: the prompt's code and the answer, never the model output. */
export interface DecontaminationFields {
  language?: string | null;
  context?: string | null;
  correction: string;
}

/**
 * sha256 (hex) of the canonical context and correction: equal for a learning and its variants
 * with other spacing, comments, consistently renamed identifiers or another model output.
 */
export function decontaminationKey(
  item: DecontaminationFields,
  level: NormalisationLevel = 'identifiers',
): string {
  const payload = JSON.stringify([
    'genesis.decontamination.v1',
    level,
    canonicalCode(item.context ?? '', item.language, level),
    canonicalCode(item.correction, item.language, level),
  ]);
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}

/**
 * sha256 (hex) of the canonical correction alone: a training example that teaches an evaluation
 * item's answer under another prompt is as much a leak as a copy of the item.
 */
export function correctionKey(
  item: DecontaminationFields,
  level: NormalisationLevel = 'identifiers',
): string {
  const payload = JSON.stringify([
    'genesis.decontamination.correction.v1',
    level,
    canonicalCode(item.correction, item.language, level),
  ]);
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}
