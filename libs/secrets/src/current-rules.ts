import { createHash } from 'node:crypto';
import { redactManyLearningFields, quarantineReason } from './redaction';
import {
  IDENTIFIER_FIELDS,
  TEXT_FIELDS,
  scanLearnings,
  type LearningScan,
  type LearningTexts,
} from './scan-learning';
import { SECRET_RULE_SET_VERSION } from './secretlint-scanner';

/**
 * "The current rule set" (ADR 0017): the maintained scanner plus the operator's extra rules from
 * GENESIS_SECRET_EXTRA_RULES. The capture path and the rescan both clean through
 * cleanWithCurrentRules, so a rule added to the config applies to what comes in and, after
 * `genesis learnings rescan`, to what was stored before it existed. The trainer-bridge cleans the
 * model outputs kept by evaluations with the same rules (redactTextsWithCurrentRules), so it reads
 * the same variable.
 */
export interface ExtraRule {
  /** Names the marker: `[REDACTED:<id>]`. */
  id: string;
  pattern: RegExp;
}

export interface SecretRuleSet {
  /** Recorded with every learning and rescan, e.g. `…+genesis-rules@1+extra:3f2a9c1b`. */
  name: string;
  extra: readonly ExtraRule[];
}

const RULE_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAX_EXTRA_RULES = 200;

const SCANNER_NAME = SECRET_RULE_SET_VERSION;

/**
 * Parses GENESIS_SECRET_EXTRA_RULES: `[{"id": "acme-token", "pattern": "ACME-[A-Z0-9]{20}", "flags": "i"}]`.
 * Patterns are JavaScript regular expressions (flags: `i`, `m`, `s`, `u` only; `g` is implied).
 * They come from the operator's configuration, never from a learning.
 */
export function parseExtraRules(value: unknown): ExtraRule[] {
  if (!Array.isArray(value)) throw new Error('must be a JSON array of {"id", "pattern", "flags"?}');
  if (value.length > MAX_EXTRA_RULES) throw new Error(`at most ${MAX_EXTRA_RULES} rules`);
  const seen = new Set<string>();
  return value.map((item: unknown, i) => {
    const rule = item as { id?: unknown; pattern?: unknown; flags?: unknown };
    if (typeof rule !== 'object' || rule === null) throw new Error(`rule ${i} is not an object`);
    if (typeof rule.id !== 'string' || !RULE_ID.test(rule.id))
      throw new Error(`rule ${i}: id must match ${RULE_ID.source}`);
    if (seen.has(rule.id)) throw new Error(`rule ${i}: id "${rule.id}" appears twice`);
    seen.add(rule.id);
    if (typeof rule.pattern !== 'string' || rule.pattern === '')
      throw new Error(`rule ${i} (${rule.id}): pattern must be a non-empty string`);
    const flags = rule.flags ?? '';
    if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags))
      throw new Error(`rule ${i} (${rule.id}): flags may hold only i, m, s, u`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(rule.pattern, `${flags}g`);
    } catch (err) {
      throw new Error(`rule ${i} (${rule.id}): ${(err as Error).message}`);
    }
    // A pattern matching the empty string would "redact" between every character.
    if (new RegExp(pattern.source, flags).test('')) throw new Error(`rule ${i} (${rule.id}): matches ""`);
    return { id: rule.id, pattern };
  });
}

export function secretRuleSet(extra: readonly ExtraRule[] = []): SecretRuleSet {
  if (extra.length === 0) return { name: SCANNER_NAME, extra };
  const digest = createHash('sha256')
    .update(JSON.stringify(extra.map((r) => [r.id, r.pattern.source, r.pattern.flags])))
    .digest('hex')
    .slice(0, 8);
  return { name: `${SCANNER_NAME}+extra:${digest}`, extra };
}

/**
 * The maintained rule sets (@genesis/secrets: scanLearnings over every text a learning carries), then
 * the extra rules over the cleaned texts, metadata keys and string values included. Same contract as
 * scanLearnings: element i belongs to list[i], never rejects. `ruleSetVersion` names the extra rules too.
 */
export async function cleanWithCurrentRules(
  list: readonly LearningTexts[],
  rules: SecretRuleSet,
): Promise<LearningScan[]> {
  // The maintained scanner. Swapping it for another one is this line.
  const scans = await scanLearnings(list);
  for (const scan of scans) {
    scan.ruleSetVersion = rules.name;
    if (rules.extra.length > 0) applyExtraRules(scan, rules.extra);
  }
  return scans;
}

function applyExtraRules(scan: LearningScan, extra: readonly ExtraRule[]): void {
  const inIdentifiers: string[] = [];
  const redact = (field: string, text: string, identifier: boolean): string => {
    let out = text;
    for (const rule of extra) {
      let hits = 0;
      out = out.replace(rule.pattern, () => {
        hits++;
        return `[REDACTED:${rule.id}]`;
      });
      if (hits === 0) continue;
      scan.redactions += hits;
      scan.findings.push({ field, ruleId: `extra/${rule.id}`, message: `matched extra rule ${rule.id}` });
      if (identifier) inIdentifiers.push(field);
    }
    return out;
  };
  const { cleaned } = scan;
  for (const name of TEXT_FIELDS) {
    const value = cleaned[name];
    if (value !== undefined) cleaned[name] = redact(name, value, IDENTIFIER_FIELDS.has(name));
  }
  if (cleaned.metadata !== undefined) {
    cleaned.metadata = redactJson(cleaned.metadata, 'metadata', redact) as Record<string, unknown>;
  }
  if (scan.quarantine !== undefined) return;
  if (inIdentifiers.length > 0) {
    scan.quarantine = {
      code: 'SECRET_IN_IDENTIFIER',
      message: `a secret in a field that cannot be redacted: ${[...new Set(inIdentifiers)].join(', ')}`,
    };
    return;
  }
  // The capture path's policy again, on what the extra rules left (e.g. a correction that was only a secret).
  scan.quarantine = quarantineReason({
    fields: { context: cleaned.context, model_output: cleaned.model_output, correction: cleaned.correction },
    findings: scan.findings,
    redactions: scan.redactions,
    failedFields: [],
  });
}

/** A copy of a JSON value with every key and string value passed through `redact` (keys are identifiers). */
function redactJson(
  value: unknown,
  path: string,
  redact: (field: string, text: string, identifier: boolean) => string,
): unknown {
  if (typeof value === 'string') return redact(path, value, false);
  if (Array.isArray(value)) return value.map((v, i) => redactJson(v, `${path}.${i}`, redact));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [i, [key, v]] of Object.entries(value).entries()) {
    // Named by position, never by the key itself: the key may be the secret.
    let name = redact(`${path}.#${i} (key)`, key, true);
    while (Object.prototype.hasOwnProperty.call(out, name)) name = `${name}~`;
    // defineProperty: a key named `__proto__` from untrusted metadata stays a plain key.
    Object.defineProperty(out, name, {
      value: redactJson(v, `${path}.${name}`, redact),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** What stands in for a text the scanner failed on: nothing proves it clean, so none of it is kept. */
export const UNSCANNED_TEXT = '[REDACTED:unscanned]';

/**
 * Plain texts (e.g. what a model generated) through the current rules: the maintained scanner in one
 * batch, then the extra rules. Element i is texts[i] with every secret replaced by `[REDACTED:<rule>]`;
 * a text the scanner failed on becomes UNSCANNED_TEXT. Never rejects.
 */
export async function redactTextsWithCurrentRules(
  texts: readonly string[],
  rules: SecretRuleSet,
): Promise<string[]> {
  if (texts.length === 0) return [];
  const [scan] = await redactManyLearningFields([Object.fromEntries(texts.map((t, i) => [String(i), t]))]);
  return texts.map((_, i) => {
    const cleaned = scan!.fields[String(i)];
    if (cleaned === undefined) return UNSCANNED_TEXT;
    let out = cleaned;
    for (const rule of rules.extra) out = out.replace(rule.pattern, `[REDACTED:${rule.id}]`);
    return out;
  });
}
