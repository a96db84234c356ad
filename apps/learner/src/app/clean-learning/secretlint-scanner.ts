import { createRequire } from 'node:module';
import { lintSource } from '@secretlint/core';
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';

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

export function shortRuleName(ruleId: string): string {
  const name = ruleId.startsWith(RULE_ID_PREFIX) ? ruleId.slice(RULE_ID_PREFIX.length) : ruleId;
  // Keeps markers matchable by a fixed pattern even if a future rule id has unusual characters.
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** Runs the secretlint rules over `text`; rejects if secretlint throws. */
export async function scanForSecrets(text: string): Promise<ScanHit[]> {
  if (text.length === 0) return [];
  const result = await lintSource({
    // filePath '' (falsy) makes the npm rule treat the text as any file, so its URL-token check still runs;
    // ext is required by core when there is no path.
    source: { content: text, filePath: '', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, locale: 'en', noPhysicFilePath: true },
  });
  // Core strips a leading BOM before linting, so its ranges are relative to the text without it.
  const offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  return result.messages.map((message) => toHit(text, message, offset));
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
