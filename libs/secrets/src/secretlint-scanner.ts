import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { lintSource } from '@secretlint/core';
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import { PATTERN_RULES_VERSION, scanWithPatterns } from './pattern-rules';

type SecretlintConfig = Parameters<typeof lintSource>[0]['options']['config'];
type SecretlintMessage = Awaited<ReturnType<typeof lintSource>>['messages'][number];

/** One secretlint report, with every text span that must be removed and a message that is safe to log. */
export interface ScanHit {
  ruleId: string;
  message: string;
  spans: Array<readonly [start: number, end: number]>;
}

const RULE_ID_PREFIX = '@secretlint/secretlint-rule-';
const FILTER_COMMENTS_RULE_ID = `${RULE_ID_PREFIX}filter-comments`;

// The AWS rule only looks for the secret access key by default; access key IDs (AKIA…) are what push
// protection and credential scanners key on, so a training example must not carry them either.
const RULE_OPTIONS: Readonly<Record<string, object>> = {
  [`${RULE_ID_PREFIX}aws`]: { enableIDScanRule: true },
};

// Messages whose range secretlint 11.7.1 computes as [match start, match start + captured value length]:
// it starts at the variable name (`AWS_SECRET_ACCESS_KEY="…`, `https://…`) and stops inside the secret. For
// these the value's own occurrences are the secret, and the reported range is dropped so the name stays
// readable.
const MISALIGNED_RANGE_MESSAGES: ReadonlySet<string> = new Set([
  `${RULE_ID_PREFIX}aws#AWSSecretAccessKey`,
  `${RULE_ID_PREFIX}npm#PackageJSON_xOauthToken`,
  `${RULE_ID_PREFIX}npm#Npmrc_authToken`,
]);

// A reported value shorter than this is not searched for elsewhere in the text: short values (e.g. a rule's
// type label) are not secrets and echo-redacting them would shred ordinary prose.
const MIN_ECHO_LENGTH = 8;

const BOM = 0xfeff;

// Every rule of the recommend preset, registered individually instead of through the preset creator, minus
// filter-comments: that rule honours secretlint's disable/enable comment directives found in the scanned
// text, and a learning is untrusted input, so it could switch redaction off for itself. Core 11.7.1 ignores
// `disabled` on a rule inside a preset (RulePresetContext passes it on, SecretLintRule never reads it), so
// dropping it from the list is the only way to turn it off. New rules added to the preset are picked up
// automatically.
//
// Severity: secretlint rules never set a severity themselves; it comes from this config and defaults to
// "error". We set none, and every reported message is treated as a secret whatever its severity: severity is
// a CI noise knob, while a false positive here only costs a marker in a training example. A rule that proves
// too noisy should be removed from this list, not downgraded.
const CONFIG: SecretlintConfig = {
  rules: recommendedRules
    .filter((rule) => rule.meta.id !== FILTER_COMMENTS_RULE_ID)
    .map((rule) => ({ id: rule.meta.id, rule, options: RULE_OPTIONS[rule.meta.id] ?? {} })),
};

interface ProfilerLike {
  mark: (marker: unknown) => void;
  setEnabled?: (enabled: boolean) => void;
}

// @secretlint/core calls a process-wide profiler (@secretlint/profiler) on every lintSource; it always
// records performance marks and keeps every entry in arrays that are never cleared. In a long-running service
// that is an unbounded leak (measured: ~11 KB of heap per call, 262 MB after 24k calls) and ~2.4x the CPU per
// call. Upstream secretlint#1633 / #1653, fixed in a later major by `setEnabled`. Resolve the module from
// core's own location so this is the very instance core imports.
function disableSecretlintProfiler(): void {
  const requireFromCore = createRequire(require.resolve('@secretlint/core'));
  const profiler = (requireFromCore('@secretlint/profiler') as { secretLintProfiler: ProfilerLike })
    .secretLintProfiler;
  if (typeof profiler.setEnabled === 'function') profiler.setEnabled(false);
  else profiler.mark = () => undefined;
}
disableSecretlintProfiler();

/** The installed version of a package, read from its package.json (its `exports` hide that file). */
function installedVersion(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === pkg && json.version) return json.version;
    } catch {
      // no package.json at this level
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/**
 * Names every rule set that cleans a learning, with versions; stored per learning (`secret_rule_set`) so
 * that a rescan knows which learnings were cleaned by an older set.
 */
export const SECRET_RULE_SET_VERSION = [
  `secretlint-preset-recommend@${installedVersion('@secretlint/secretlint-rule-preset-recommend')}`,
  PATTERN_RULES_VERSION,
].join('+');

const PATTERN_RULE_PREFIX = /^(?:gitleaks|genesis):/;

export function shortRuleName(ruleId: string): string {
  const name = ruleId.startsWith(RULE_ID_PREFIX)
    ? ruleId.slice(RULE_ID_PREFIX.length)
    : ruleId.replace(PATTERN_RULE_PREFIX, '');
  // Keeps markers matchable by a fixed pattern even if a future rule id has unusual characters.
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

function lint(content: string): Promise<SecretlintMessage[]> {
  return lintSource({
    // filePath '' (falsy) makes the npm rule treat the text as any file, so its URL-token check still runs;
    // ext is required by core when there is no path.
    source: { content, filePath: '', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, locale: 'en', noPhysicFilePath: true },
  }).then((result) => result.messages);
}

/**
 * Every rule set over `text`: secretlint's recommend preset, then gitleaks' default rules and Genesis' own
 * (pattern-rules.ts). Rejects if a scanner throws.
 */
export async function scanForSecrets(text: string): Promise<ScanHit[]> {
  if (text.length === 0) return [];
  return [...(await scanWithSecretlint(text)), ...scanWithPatterns(text)];
}

/** Runs the secretlint rules over `text`; rejects if secretlint throws. */
export async function scanWithSecretlint(text: string): Promise<ScanHit[]> {
  if (text.length === 0) return [];
  const messages = await lint(text);
  // Core strips a leading BOM before linting, so its ranges are relative to the text without it.
  const offset = text.charCodeAt(0) === BOM ? 1 : 0;
  return messages.map((message) => toHit(text, message, offset));
}

function toHit(text: string, message: SecretlintMessage, offset: number): ScanHit {
  const start = Math.min(text.length, message.range[0] + offset);
  const end = Math.min(text.length, message.range[1] + offset);
  const valueSpans: Array<readonly [number, number]> = [];
  const marker = `[REDACTED:${shortRuleName(message.ruleId)}]`;
  let safeMessage = message.message;

  const values = Object.values(message.data ?? {})
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .sort((a, b) => b.length - a.length);
  for (const value of values) {
    const occurrences = findAll(text, value);
    if (occurrences.length === 0) continue;
    // Any reported value that appears in the text is masked in the message, so findings can be logged.
    safeMessage = safeMessage.split(value).join(marker);
    // A reported value overlapping the reported range is the secret itself. Redact all its occurrences: this
    // covers the tail a misaligned range leaves and the same secret repeated where no rule would match it.
    if (value.length >= MIN_ECHO_LENGTH && occurrences.some(([s, e]) => s < end && e > start)) {
      valueSpans.push(...occurrences);
    }
  }
  const misaligned = MISALIGNED_RANGE_MESSAGES.has(`${message.ruleId}#${message.messageId}`);
  // Otherwise the reported range is always kept: a rule may report more than the value it names.
  const spans = misaligned && valueSpans.length > 0 ? valueSpans : [[start, end] as const, ...valueSpans];
  // Fail-safe for a rule that reports without data: never echo the matched text.
  const matched = text.slice(start, end);
  if (matched.length >= 4) safeMessage = safeMessage.split(matched).join(marker);

  return { ruleId: message.ruleId, message: safeMessage, spans };
}

function findAll(text: string, value: string): Array<readonly [number, number]> {
  const found: Array<readonly [number, number]> = [];
  for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + value.length)) {
    found.push([i, i + value.length]);
  }
  return found;
}

/** Scans one text; scanForSecrets unless a test injects another. */
export type SecretScanner = (text: string) => Promise<ScanHit[]>;

/** What the joined pre-filter pass needs from a secretlint message. */
export type PrefilterMessage = Pick<SecretlintMessage, 'range' | 'data'>;

export interface ScanManyOptions {
  /** Per-text scan, the single source of truth for hits (default scanForSecrets). */
  scan?: SecretScanner;
  /**
   * What a text the secretlint pre-filter clears still gets: the pattern rules (default scanWithPatterns).
   * `scan` must equal secretlint's hits followed by these for the batch to equal the per-text scan.
   */
  patterns?: (text: string) => ScanHit[];
  /** The joined pre-filter pass (default: secretlint over the joined texts); a test hook. */
  prefilter?: (joined: string) => Promise<readonly PrefilterMessage[]>;
}

// The joined pass puts this between texts. Every rule sees it as it sees the start or end of the input (see
// scanManyForSecretsSettled), and it holds no character a rule could start a match with.
const SEPARATOR = '\n\n';
// One joined pass covers at most this many texts / characters, so a huge batch never becomes one giant
// lintSource call (the regexes are linear, but core also builds a line index over the whole input).
const MAX_CHUNK_TEXTS = 500;
const MAX_CHUNK_CHARS = 1_000_000;
// Texts containing one of these are always scanned alone, whatever the joined pass reports (see below).
const PEM_BEGIN = '-----BEGIN';
// The AWS rule's built-in allow-listed secret key (AWS's documentation example); assembled so this file
// itself has no secret-shaped literal.
const AWS_EXAMPLE_SECRET_KEY = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');

/**
 * scanForSecrets for many texts at once, with exactly the same result for every text:
 * `await scanManyForSecrets(texts)` deep-equals `await Promise.all(texts.map(scanForSecrets))`.
 * Rejects (with the first failing text's error, in input order) where that would reject. It costs a fraction
 * of one secretlint call per text; see scanManyForSecretsSettled for the numbers and why it is exact.
 */
export async function scanManyForSecrets(
  texts: readonly string[],
  options: ScanManyOptions = {},
): Promise<ScanHit[][]> {
  const settled = await scanManyForSecretsSettled(texts, options);
  return settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

/**
 * Like scanManyForSecrets, but never rejects: one outcome per text, exactly what
 * `Promise.allSettled(texts.map(scanForSecrets))` gives, so one failing text does not fail the others.
 *
 * Why: secretlint's cost is mostly per lintSource call (rule setup, translators, a line index, message
 * post-processing), not per character. Measured on the learner's data with 11.7.1: scanning a learning's 3
 * fields one call each costs ~125-190 µs per learning; ONE lintSource call over 100 learnings' fields joined
 * together costs ~5 µs per learning. The learner is CPU-bound, so it scans a batch in one pass.
 *
 * How: the joined pass is only a PRE-FILTER. The non-empty texts are joined with SEPARATOR (in chunks of at
 * most MAX_CHUNK_TEXTS texts / MAX_CHUNK_CHARS characters) and linted once; every text that a reported
 * message touches is then scanned alone with `scan` (scanForSecrets), which stays the single source of truth
 * for hits, messages and spans. Every other text gets []: that is exact as long as "a text that has a finding
 * alone is touched by some message of the joined pass". A message touches every text that the closed interval
 * [range start, hull end] meets, and the text beyond a separator that either end lies in, where hull end is the
 * larger of the range end and, for each string value in the message's data, the end of that value's first
 * occurrence at or after the range start. Texts starting with a BOM, texts containing PEM_BEGIN or
 * AWS_EXAMPLE_SECRET_KEY, and a chunk of one text are scanned alone without the joined pass. Empty texts get
 * [] without any scan. If the joined pass throws, every text of the chunk is scanned alone.
 *
 * Why that is exact, checked against @secretlint/core 11.7.1 (module/index.js, messages/*) and the recommend
 * preset 11.7.1 (module/index-Cq-34xZU.js) as configured in CONFIG (filter-comments left out, ext '.txt',
 * filePath '', no `allows` option anywhere):
 * - Core: each rule's `file(source)` reads only source.content; nothing is ignored (no filter-comments, no
 *   allowMessageIds); cleanup only drops exact duplicates (same range, severity and message, so a kept copy
 *   touches the same texts) and sorts. Core strips a BOM only at the very start of the whole input, so a text
 *   starting with U+FEFF is linted differently joined (first in the input, its BOM is stripped and every range
 *   shifts by one; elsewhere the BOM is a character, and one that \s matches): such texts stay out of the
 *   joined input and are always scanned alone.
 * - gcp only runs for ext .json / .p12, never here.
 * - Every other rule reports matches of a `g` regex run with matchAll over the whole content. None uses ^, $
 *   or a positive lookaround; their only assertions are \b and negative lookarounds on classes without "\n"
 *   (\p{L}, \w, [A-Za-z0-9_-], base64 characters), for which the "\n" of SEPARATOR next to a text behaves
 *   exactly like the start or end of input.
 * - Rules whose regexes cannot consume "\n" (their classes are literal, [A-Za-z0-9...], \w, `.` without the s
 *   flag, or negated classes that exclude \s): aws access key id, npm (x-oauth-basic URL, npm_ token; the
 *   .npmrc _authToken check does not run for filePath ''), slack token and webhook, basicauth, sendgrid,
 *   shopify, github (classic and fine-grained), openai, anthropic, linear, 1password, and the mongodb / mysql /
 *   postgres connection strings. Every match then lies inside one text and the regex sees exactly what it
 *   sees on that text alone, so the joined pass finds exactly the union of the per-text matches, with the same
 *   captures, hence the same post-match checks (sendgrid's 69 chars, 1password's JSON, placeholder lists) and
 *   the same reports, each with a range starting inside its own text.
 * - Rules whose regexes can consume "\n", so one match can run from one text into a later one and "swallow"
 *   (matchAll resumes after a match) a match that the later text has on its own:
 *   - aws account id (`\s*` around the separator): every match is reported (no allows) with its full match as
 *     range, so a swallowing match touches the swallowed text.
 *   - aws secret access key (`\s*` after the `=`): its range is [match start, match start + 40], which can end
 *     before the next text (a long run of spaces after the `=`), but the captured key is reported as data and
 *     lies in the text the match ends in, after the name and the whitespace: the data-value hull reaches it. Any
 *     40 non-space characters after the range start lie past the whitespace the match crossed (the name and
 *     `=` before it are shorter), so the value's first occurrence there is in that text. Only that text can be
 *     swallowed: in the earlier one the match covers just a name, `=` and spaces, with no room for a key of
 *     its own. A crossing match is not reported only when its key is AWS_EXAMPLE_SECRET_KEY, and
 *     texts containing that are always scanned alone.
 *   - privatekey: the body class [A-Za-z0-9+/=\s\\] spans separators, so a BEGIN header in one text can pair
 *     with an END in a later one. Such a block is reported only if its body validates; if not, nothing is
 *     reported, yet it can swallow a real key in the later text (an END whose trailing dashes start that key's
 *     BEGIN; see batch-scan.spec.ts). So this rule is not pre-filtered at all: every text containing PEM_BEGIN,
 *     which any privatekey match contains, is always scanned alone (and kept out of the joined input).
 *   Where no swallow happens the regex is tried at the start of the text's own match, the path it took alone is
 *   still there (its \s* runs end at a non-space inside the text), so a match starting there is found and, as it
 *   is the same path, reported with a range starting inside the text.
 * A rule added by a later preset version, or an `allows` option, voids this argument: re-check it and keep the
 * equivalence tests in batch-scan.spec.ts (they pin the preset's rule list).
 */
export async function scanManyForSecretsSettled(
  texts: readonly string[],
  options: ScanManyOptions = {},
): Promise<PromiseSettledResult<ScanHit[]>[]> {
  const scan = options.scan ?? scanForSecrets;
  const patterns = options.patterns ?? scanWithPatterns;
  const prefilter = options.prefilter ?? lint;
  const alone = new Set<number>();
  const joinable: number[] = [];
  texts.forEach((text, i) => {
    if (text.length === 0) return;
    if (mustScanAlone(text)) alone.add(i);
    else joinable.push(i);
  });

  for (const chunk of chunkTexts(joinable, texts)) {
    const touched =
      chunk.length === 1 ? chunk : await touchedTexts(chunk, texts, prefilter).catch(() => chunk);
    for (const i of touched) alone.add(i);
  }

  const rescanned = [...alone].sort((a, b) => a - b);
  // new Promise: a scanner that throws synchronously fails only its own text.
  const outcomes = await Promise.allSettled(
    rescanned.map((i) => new Promise<ScanHit[]>((resolve) => resolve(scan(texts[i])))),
  );
  const byIndex = new Map(rescanned.map((i, k) => [i, outcomes[k]]));
  // A text the pre-filter cleared has no secretlint hit; the pattern rules still run over it.
  return texts.map((text, i) => byIndex.get(i) ?? settle(() => (text.length === 0 ? [] : patterns(text))));
}

function settle(run: () => ScanHit[]): PromiseSettledResult<ScanHit[]> {
  try {
    return { status: 'fulfilled', value: run() };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

function mustScanAlone(text: string): boolean {
  return text.charCodeAt(0) === BOM || text.includes(PEM_BEGIN) || text.includes(AWS_EXAMPLE_SECRET_KEY);
}

function chunkTexts(indices: readonly number[], texts: readonly string[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let chars = 0;
  for (const i of indices) {
    const size = texts[i].length + SEPARATOR.length;
    if (current.length > 0 && (current.length >= MAX_CHUNK_TEXTS || chars + size > MAX_CHUNK_CHARS)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(i);
    chars += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Runs the joined pre-filter pass over `chunk` and returns the indices of the texts it touches. */
async function touchedTexts(
  chunk: readonly number[],
  texts: readonly string[],
  prefilter: (joined: string) => Promise<readonly PrefilterMessage[]>,
): Promise<number[]> {
  const starts: number[] = [];
  const ends: number[] = [];
  let offset = 0;
  for (const i of chunk) {
    starts.push(offset);
    ends.push(offset + texts[i].length);
    offset += texts[i].length + SEPARATOR.length;
  }
  const joined = chunk.map((i) => texts[i]).join(SEPARATOR);
  const messages = await prefilter(joined);

  // Text k occupies the closed interval [starts[k], ends[k]] (one past its end included, for ranges reported
  // as ending there); the gaps between are separators. A hull meets every text it overlaps, and an end lying
  // inside a separator also meets the text on that side of it.
  const touched = new Set<number>();
  const last = chunk.length - 1;
  for (const message of messages) {
    const [start, end] = messageHull(joined, message);
    let first = lowerBound(ends, start);
    if (first > last || (first > 0 && starts[first] > start)) first--;
    let final = lowerBound(starts, end + 1) - 1;
    if (final < last && ends[final] < end) final++;
    for (let k = Math.max(first, 0); k <= final; k++) touched.add(chunk[k]);
  }
  return [...touched];
}

/** The first index whose value is >= target in an ascending array (its length if none). */
function lowerBound(sorted: readonly number[], target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function messageHull(joined: string, message: PrefilterMessage): readonly [number, number] {
  const [start, rangeEnd] = message.range;
  // A malformed range would make the filter unsound: fail the pass, so every text is scanned alone.
  if (!Number.isInteger(start) || !Number.isInteger(rangeEnd) || start < 0 || rangeEnd < start) {
    throw new Error('secretlint reported an invalid range');
  }
  let end = rangeEnd;
  for (const value of Object.values(message.data ?? {})) {
    if (typeof value !== 'string' || value.length === 0) continue;
    const at = joined.indexOf(value, start);
    if (at !== -1) end = Math.max(end, at + value.length);
  }
  return [start, end];
}
