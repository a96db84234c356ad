import { createHash } from 'node:crypto';

/** What stands in for a model's output on an item derived from a forgotten learning (ADR 0017). */
export const FORGOTTEN_OUTPUT = '[forgotten]';

/**
 * The part of a per-item evaluation result that holds text a model generated or its sandbox printed:
 * the output (it may reproduce a secret or a correction the model was trained on) and the stderr tail
 * (a traceback quotes the code). Ids, scores and outcomes are Genesis' own.
 */
export interface OutputCarrier {
  item_id?: unknown;
  output?: unknown;
  sandbox?: { stderr_tail?: unknown } | null;
}

/** Rewrites a batch of texts, element for element (the current secret rules, or forgetting). */
export type TextRewrite = (texts: string[]) => Promise<string[]>;

/**
 * Every result's output texts through one `rewrite` call; returns copies (the inputs are left as they
 * are) and which of them changed. A result without output texts is returned unchanged.
 */
export async function rewriteOutputs<T extends OutputCarrier>(
  results: readonly T[],
  rewrite: TextRewrite,
): Promise<{ value: T; changed: boolean }[]> {
  const texts: string[] = [];
  for (const r of results) {
    if (typeof r.output === 'string') texts.push(r.output);
    if (typeof r.sandbox?.stderr_tail === 'string') texts.push(r.sandbox.stderr_tail);
  }
  const rewritten = await rewrite(texts);
  if (rewritten.length !== texts.length) throw new Error('a text rewrite must answer one text per text');
  let next = 0;
  return results.map((r) => {
    let changed = false;
    const value = { ...r };
    if (typeof r.output === 'string') {
      value.output = rewritten[next++];
      changed ||= value.output !== r.output;
    }
    if (r.sandbox && typeof r.sandbox.stderr_tail === 'string') {
      const tail = rewritten[next++];
      value.sandbox = { ...r.sandbox, stderr_tail: tail };
      changed ||= tail !== r.sandbox.stderr_tail;
    }
    return { value, changed };
  });
}

/** A worker's results object rewritten: JSON lines in, JSON lines out, only if any output changed. */
export interface RewrittenResults {
  changed: boolean;
  /** How many lines (per-item results) changed. */
  items: number;
  jsonl: string;
  sha256: string;
}

/**
 * Rewrites the output texts of the lines of a results object (JSONL) whose item `select` picks. A line
 * that is not JSON cannot be cleaned and is kept as it was: the evaluator refused such an object when it
 * arrived, so none is expected.
 */
export async function rewriteResultsObject(
  jsonl: string,
  select: (itemId: string) => boolean,
  rewrite: TextRewrite,
): Promise<RewrittenResults> {
  const lines = jsonl.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((line) => {
    try {
      const value = JSON.parse(line) as OutputCarrier;
      return typeof value === 'object' && value !== null ? value : undefined;
    } catch {
      return undefined;
    }
  });
  const picked = parsed.flatMap((value, i) =>
    value && typeof value.item_id === 'string' && select(value.item_id) ? [{ i, value }] : [],
  );
  const outcome = await rewriteOutputs(
    picked.map((p) => p.value),
    rewrite,
  );
  const out = [...lines];
  let items = 0;
  outcome.forEach(({ value, changed }, k) => {
    if (!changed) return;
    items++;
    out[picked[k]!.i] = JSON.stringify(value);
  });
  const text = `${out.join('\n')}\n`;
  return { changed: items > 0, items, jsonl: text, sha256: createHash('sha256').update(text).digest('hex') };
}
