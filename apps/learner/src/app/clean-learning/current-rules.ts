import { createHash } from 'node:crypto';
import { redactManyLearningFields, type RedactedLearningFields } from './redaction';

/**
 * "The current rule set" (ADR 0017): the maintained scanner plus the operator's extra rules from
 * GENESIS_SECRET_EXTRA_RULES. The capture path and the rescan both clean through
 * cleanWithCurrentRules, so a rule added to the config applies to what comes in and, after
 * `genesis learnings rescan`, to what was stored before it existed.
 */
export interface ExtraRule {
  /** Names the marker: `[REDACTED:<id>]`. */
  id: string;
  pattern: RegExp;
}

export interface SecretRuleSet {
  /** Recorded with every rescan, e.g. `secretlint-recommend@11.7.1+extra:3f2a9c1b`. */
  name: string;
  extra: readonly ExtraRule[];
}

const RULE_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAX_EXTRA_RULES = 200;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SCANNER_NAME = `secretlint-recommend@${(require('@secretlint/secretlint-rule-preset-recommend/package.json') as { version: string }).version}`;

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
 * redactManyLearningFields with the extra rules applied after the maintained scanner (which sees
 * the original text, so its own rules match as they always do). Same contract: element i belongs
 * to list[i], never rejects, failed fields are dropped and listed.
 */
export async function cleanWithCurrentRules(
  list: readonly Record<string, string | undefined>[],
  rules: SecretRuleSet,
): Promise<RedactedLearningFields[]> {
  // The maintained scanner. Swapping it for another one is this line.
  const cleaned = await redactManyLearningFields(list);
  if (rules.extra.length === 0) return cleaned;
  for (const learning of cleaned) {
    for (const [field, value] of Object.entries(learning.fields)) {
      if (value === undefined) continue;
      let text = value;
      for (const rule of rules.extra) {
        let hits = 0;
        text = text.replace(rule.pattern, () => {
          hits++;
          return `[REDACTED:${rule.id}]`;
        });
        if (hits === 0) continue;
        learning.redactions += hits;
        learning.findings.push({
          field,
          ruleId: `extra/${rule.id}`,
          message: `matched extra rule ${rule.id}`,
        });
      }
      learning.fields[field] = text;
    }
  }
  return cleaned;
}
