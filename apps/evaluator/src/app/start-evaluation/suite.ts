import { createHash } from 'node:crypto';
import { formatIssues, validateEvalItem } from '@genesis/contracts';

export interface BuiltSuite {
  jsonl: string;
  sha256: string;
  items: number;
  inDomain: number;
  regression: number;
}

function lines(jsonl: string): Record<string, unknown>[] {
  return jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The frozen suite of one evaluation: the snapshot's held-out in-domain items (never trained on)
 * followed by the fixed regression set shipped with the project. Same inputs, same bytes, same
 * sha256 — champion and candidate are measured on exactly this object.
 */
export function buildSuite(heldOutJsonl: string, regressionJsonl: string): BuiltSuite {
  const inDomain = lines(heldOutJsonl).map((r, i) => {
    const item: Record<string, unknown> = {
      item_id: String(r['learning_id'] ?? `in-domain-${i + 1}`),
      split: 'in_domain',
      ...r,
    };
    delete item['replay'];
    return item;
  });
  const regression = lines(regressionJsonl).map((r) => ({ ...r, split: 'regression' }));
  const all = [...inDomain, ...regression];
  all.forEach((item, i) => {
    const check = validateEvalItem(item, `/${i}`);
    if (!check.ok) throw new Error(`suite item ${i + 1} is invalid: ${formatIssues(check.issues)}`);
  });
  const jsonl = all.length ? `${all.map((r) => JSON.stringify(r)).join('\n')}\n` : '';
  return {
    jsonl,
    sha256: createHash('sha256').update(jsonl).digest('hex'),
    items: all.length,
    inDomain: inDomain.length,
    regression: regression.length,
  };
}
