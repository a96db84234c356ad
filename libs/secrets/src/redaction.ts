import {
  scanForSecrets,
  scanManyForSecretsSettled,
  shortRuleName,
  type ScanHit,
  type ScanManyOptions,
  type SecretScanner,
} from './secretlint-scanner';

export type { ScanManyOptions, SecretScanner } from './secretlint-scanner';

export interface SecretFinding {
  ruleId: string;
  /** secretlint's message with the secret value replaced by a marker: safe to log and store. */
  message: string;
}

export interface RedactedText {
  text: string;
  /** Number of markers inserted (overlapping or touching findings share one marker). */
  redactions: number;
  findings: SecretFinding[];
}

export interface FieldSecretFinding extends SecretFinding {
  field: string;
}

export interface RedactedLearningFields {
  fields: Record<string, string | undefined>;
  redactions: number;
  findings: FieldSecretFinding[];
  /** Fields whose scan threw. Their value is dropped (undefined) so unscanned text never passes as clean. */
  failedFields: string[];
}

export type QuarantineCode =
  | 'SECRET_SCAN_FAILED'
  | 'SECRET_IN_IDENTIFIER'
  | 'RESIDUAL_PRIVATE_KEY'
  | 'UNCLEANABLE_SECRET'
  | 'EMPTY_CORRECTION';

export interface QuarantineReason {
  code: QuarantineCode;
  message: string;
}

// Matches the markers this module inserts, e.g. `[REDACTED:github]` or `[REDACTED:basicauth+github]`.
const REDACTION_MARKER_PATTERN = /\[REDACTED:[a-z0-9+-]+\]/g;

interface Span {
  start: number;
  end: number;
  names: string[];
}

/**
 * Replaces every secret the rule sets find (secretlint's recommend preset, gitleaks, Genesis' own) with `[REDACTED:<rule>]`.
 * Rejects if secretlint throws; callers that must not fail use redactLearningFields + quarantineReason.
 * `scan` is a test hook.
 */
export async function redactSecrets(
  text: string,
  scan: SecretScanner = scanForSecrets,
): Promise<RedactedText> {
  return applyRedactions(text, await scan(text));
}

/** The scan hits of `text` → the redacted text: one marker per merged span, findings in hit order. */
function applyRedactions(text: string, hits: readonly ScanHit[]): RedactedText {
  if (hits.length === 0) return { text, redactions: 0, findings: [] };

  const spans = mergeSpans(
    hits.flatMap((hit) =>
      hit.spans.map(([start, end]) => ({ start, end, names: [shortRuleName(hit.ruleId)] })),
    ),
  );
  // Right to left, so earlier offsets stay valid while later text changes length.
  let redacted = text;
  for (let i = spans.length - 1; i >= 0; i--) {
    const { start, end, names } = spans[i];
    redacted = `${redacted.slice(0, start)}[REDACTED:${names.join('+')}]${redacted.slice(end)}`;
  }
  return {
    text: redacted,
    redactions: spans.length,
    findings: hits.map(({ ruleId, message }) => ({ ruleId, message })),
  };
}

// Overlapping (or touching) spans become one, so a marker never lands inside another secret's remainder.
function mergeSpans(spans: Span[]): Span[] {
  const sorted = spans.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) {
      last.end = Math.max(last.end, span.end);
      for (const name of span.names) if (!last.names.includes(name)) last.names.push(name);
    } else {
      merged.push({ ...span, names: [...span.names] });
    }
  }
  return merged;
}

/**
 * Redacts every text field passed (context, model_output, correction, …); undefined fields stay undefined.
 * Never rejects: a field whose scan fails is dropped and listed in failedFields (see quarantineReason).
 */
export async function redactLearningFields(
  fields: Record<string, string | undefined>,
  redact: (text: string) => Promise<RedactedText> = redactSecrets,
): Promise<RedactedLearningFields> {
  const entries = Object.entries(fields);
  const outcomes = await Promise.all(
    entries.map(([, value]) => (value === undefined ? undefined : redact(value).catch(() => null))),
  );
  return collectFields(entries, outcomes);
}

/**
 * redactLearningFields for many learnings at once: element i of the result is exactly what
 * `redactLearningFields(list[i])` returns (same fields, redactions, findings and failedFields), but every
 * field of every learning goes through one scanManyForSecrets batch, which costs a fraction of one secretlint
 * call per field (see scanManyForSecretsSettled). Never rejects. `options` are test hooks.
 */
export async function redactManyLearningFields(
  list: readonly Record<string, string | undefined>[],
  options: ScanManyOptions = {},
): Promise<RedactedLearningFields[]> {
  const entriesList = list.map((fields) => Object.entries(fields));
  const texts = entriesList.flatMap((entries) =>
    entries.flatMap(([, value]) => (value === undefined ? [] : [value])),
  );
  // Settles every text (a failed scan is a rejected outcome), so this never rejects either.
  const settled = await scanManyForSecretsSettled(texts, options);
  let next = 0;
  return entriesList.map((entries) =>
    collectFields(
      entries,
      entries.map(([, value]) => {
        if (value === undefined) return undefined;
        const outcome = settled[next++];
        if (outcome.status === 'rejected') return null;
        try {
          return applyRedactions(value, outcome.value);
        } catch {
          return null;
        }
      }),
    ),
  );
}

/** One outcome per entry: undefined for an undefined field, null for a field whose scan failed. */
function collectFields(
  entries: ReadonlyArray<readonly [string, string | undefined]>,
  outcomes: ReadonlyArray<RedactedText | null | undefined>,
): RedactedLearningFields {
  const result: RedactedLearningFields = { fields: {}, redactions: 0, findings: [], failedFields: [] };
  entries.forEach(([field], i) => {
    const outcome = outcomes[i];
    if (outcome === null) {
      result.fields[field] = undefined;
      result.failedFields.push(field);
      return;
    }
    result.fields[field] = outcome?.text;
    if (!outcome) return;
    result.redactions += outcome.redactions;
    for (const finding of outcome.findings) result.findings.push({ ...finding, field });
  });
  return result;
}

// Any PEM private-key header, including those the privatekey rule does not redact: ENCRYPTED keys, truncated
// or placeholder bodies, bodies over its 10k-char limit. Case-insensitive and loose on dashes on purpose.
const PRIVATE_KEY_HEADER = /-{3,}\s*BEGIN[A-Z0-9 ]*PRIVATE KEY/i;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * Quarantine policy (the learning is kept for audit but never used for training), checked in this order:
 * 1. SECRET_SCAN_FAILED: secretlint threw on any field, so nothing proves the text is clean.
 * 2. RESIDUAL_PRIVATE_KEY: a private-key BEGIN header is still present in any field after redaction; the
 *    key body may be there in a form the rule did not recognise, and a placeholder key is no loss to drop.
 * 3. UNCLEANABLE_SECRET: the correction had secrets redacted and, outside the markers, has no letter or
 *    digit left (e.g. the correction was just a token, possibly quoted): nothing is left to learn from.
 * 4. EMPTY_CORRECTION: the correction is missing or whitespace only.
 * Returns undefined when the learning may be used. Messages name fields only, never content.
 */
export function quarantineReason(cleaned: RedactedLearningFields): QuarantineReason | undefined {
  if (cleaned.failedFields.length > 0) {
    return {
      code: 'SECRET_SCAN_FAILED',
      message: `secret scan failed for: ${cleaned.failedFields.join(', ')}`,
    };
  }
  const withKey = Object.entries(cleaned.fields)
    .filter(([, value]) => value !== undefined && PRIVATE_KEY_HEADER.test(value))
    .map(([field]) => field);
  if (withKey.length > 0) {
    return {
      code: 'RESIDUAL_PRIVATE_KEY',
      message: `private key header remains after redaction in: ${withKey.join(', ')}`,
    };
  }
  const correction = cleaned.fields['correction'];
  const correctionRedacted = cleaned.findings.some((f) => f.field === 'correction');
  if (
    correction !== undefined &&
    correctionRedacted &&
    !LETTER_OR_DIGIT.test(correction.replace(REDACTION_MARKER_PATTERN, ''))
  ) {
    return { code: 'UNCLEANABLE_SECRET', message: 'correction consists only of redacted secrets' };
  }
  if (correction === undefined || correction.trim() === '') {
    return { code: 'EMPTY_CORRECTION', message: 'correction is empty' };
  }
  return undefined;
}
