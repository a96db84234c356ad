import { findUnstorableText, type EvalItemResult } from '@genesis/contracts';

/**
 * The per-item copy kept in Postgres (`evaluation_items`), stored faithfully even when a model's
 * output holds text Postgres cannot store (U+0000, an unpaired surrogate: the untrained tiny model
 * writes such bytes on long HumanEval generations). Such a field is kept JSON-escaped (its
 * `JSON.stringify` without the quotes) and named in `escaped`; the results object in the artifact
 * store keeps the raw text.
 */
export function storableResult(r: EvalItemResult): EvalItemResult & { escaped?: string[] } {
  const escape = (s: string) => JSON.stringify(s).slice(1, -1);
  const escaped: string[] = [];
  let out: EvalItemResult = r;
  if (findUnstorableText(r.output)) {
    out = { ...out, output: escape(r.output) };
    escaped.push('output');
  }
  const stderr = r.sandbox?.stderr_tail;
  if (stderr !== undefined && findUnstorableText(stderr)) {
    out = { ...out, sandbox: { ...r.sandbox!, stderr_tail: escape(stderr) } };
    escaped.push('sandbox.stderr_tail');
  }
  return escaped.length ? { ...out, escaped } : out;
}
