import { redactSecrets } from '@genesis/secrets';
import { ProblemError } from '../problem/problem';

/** At most this many fields are named in the problem: the rest are counted. */
const MAX_NAMED = 20;

/**
 * Refuses an admin body (a task, a family, a reason for a loop change, a trigger, a study or a
 * rollback) that holds a secret in any string, key or value, with 422 SECRET_IN_FIELD naming each
 * field and the rules that matched, never the value.
 *
 * Why refuse rather than redact, as learnings are (ADR 0012): these texts are configuration a person
 * typed, not material to learn from. A redacted base model or constraint would silently mean
 * something else, and every one of them is shown to every status:read key, written to the logs and
 * published on the bus (task.queued carries the reason, the family is in every model view), where
 * a secret cannot be taken back. The person who pasted it is at the keyboard: telling them is the fix.
 */
export async function refuseSecrets(body: unknown, what: string): Promise<void> {
  // Each distinct text is scanned once; its rules (empty: clean) also let a path hide a key that
  // is itself a secret, so the problem never echoes one.
  const verdicts = new Map<string, string[]>();
  const found = new Map<string, Set<string>>();
  for (const item of stringsOf(body)) {
    let rules = verdicts.get(item.text);
    if (rules === undefined) {
      try {
        rules = [...new Set((await redactSecrets(item.text)).findings.map((f) => shortRule(f.ruleId)))];
      } catch {
        // Unscanned text is never taken as clean.
        const path = pathOf(item, verdicts);
        throw new ProblemError(
          422,
          'SECRET_SCAN_FAILED',
          'Could not check the request for secrets',
          `${path} could not be checked for secrets; shorten or simplify it`,
          { errors: [{ path, message: 'could not be checked for secrets' }] },
        );
      }
      verdicts.set(item.text, rules);
    }
    if (rules.length === 0) continue;
    const path = pathOf(item, verdicts);
    const set = found.get(path) ?? new Set<string>();
    for (const r of rules) set.add(r);
    found.set(path, set);
  }
  if (found.size === 0) return;
  const named = [...found]
    .slice(0, MAX_NAMED)
    .map(([path, rules]) => ({ path, rules: [...rules].join(', ') }));
  throw new ProblemError(
    422,
    'SECRET_IN_FIELD',
    'The request holds a secret',
    `${what} holds what looks like a secret in ${named.map((f) => `${f.path} (${f.rules})`).join('; ')}` +
      `${found.size > named.length ? ` and ${found.size - named.length} more` : ''}; ` +
      'nothing was stored: remove it (name a secret, never paste its value) and send it again',
    {
      errors: named.map((f) => ({ path: f.path, message: `looks like a secret (${f.rules})` })),
      ...(found.size > named.length ? { errors_total: found.size } : {}),
    },
  );
}

/** `@secretlint/secretlint-rule-github` → `github`; `gitleaks:github-pat` → `github-pat`. */
function shortRule(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, '').replace(/^[a-z]+:/, '');
}

/** A string of the body: a value, or a key (`isKey`), under its parent. */
interface Item {
  text: string;
  isKey: boolean;
  /** The key or index that reached the value from its parent; undefined for the root. */
  segment?: string | number;
  parent?: Item;
}

/**
 * Every string of a JSON value, a key before its value, iteratively: the body parser bounds depth,
 * this does not rely on it.
 */
function* stringsOf(root: unknown): Generator<Item> {
  const stack: { value: unknown; node: Item | undefined }[] = [{ value: root, node: undefined }];
  while (stack.length > 0) {
    const { value, node } = stack.pop()!;
    if (typeof value === 'string') yield { ...node, text: value, isKey: false };
    else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], node: { text: '', isKey: false, segment: i, parent: node } });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        const child: Item = { text: k, isKey: false, segment: k, parent: node };
        stack.push({ value: v, node: child });
        stack.push({ value: k, node: { ...child, isKey: true } });
      }
    }
  }
}

/**
 * The JSON Pointer of an item (a key is reported at its value's path), with every key that is itself
 * a secret shown as `*`: the key before its value, so its verdict is known by then.
 */
function pathOf(item: Item, verdicts: Map<string, string[]>): string {
  const steps: string[] = [];
  for (let n: Item | undefined = item; n?.segment !== undefined; n = n.parent) {
    const seg = String(n.segment);
    const secretKey = typeof n.segment === 'string' && (verdicts.get(seg)?.length ?? 1) > 0;
    steps.push(`/${secretKey ? '*' : seg.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
  return steps.reverse().join('') || '/';
}
