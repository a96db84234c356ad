import type { DataSource } from 'typeorm';
import { fromStorableText } from '@genesis/contracts';
import { iso } from '@genesis/registry';

const COMPARED = [
  'accuracy',
  'exact_match',
  'functional_pass_rate',
  'success_rate',
  'bleu',
  'perplexity',
] as const;

/** Each metric as {champion, candidate}, for a side-by-side view. */
function pairedMetrics(result: Record<string, Record<string, number | null>> | null) {
  if (!result) return null;
  return Object.fromEntries(
    COMPARED.map((k) => [
      k,
      { champion: result['champion']?.[k] ?? null, candidate: result['candidate']?.[k] ?? null },
    ]),
  );
}

/** An evaluation with its decision and both models' per-item results. */
export async function evaluationView(dataSource: DataSource, id: string) {
  const [e] = await dataSource.query(`SELECT * FROM evaluations WHERE id = $1`, [id]);
  if (!e) return undefined;
  const jobs: Record<string, unknown>[] = await dataSource.query(
    `SELECT job_id, role, attempt, status, metrics, failure, created_at, updated_at
     FROM evaluation_jobs WHERE evaluation_id = $1 ORDER BY role, attempt DESC`,
    [id],
  );
  const items: Record<string, unknown>[] = await dataSource.query(
    `SELECT item_id, split, learning_id, slice_id, candidate_correct, champion_correct,
       candidate->>'output' AS candidate_output, champion->>'output' AS champion_output,
       (candidate->>'bleu')::float8 AS candidate_bleu, (champion->>'bleu')::float8 AS champion_bleu
     FROM evaluation_items WHERE evaluation_id = $1 ORDER BY split, item_id`,
    [id],
  );
  return {
    id: e.id,
    cycle_id: e.cycle_id,
    model_id: e.model_id,
    candidate_version: e.candidate_version,
    champion_version: e.champion_version,
    base_model: e.base_model,
    status: e.status,
    decision: e.decision,
    reason: e.reason,
    suite: e.suite,
    suite_version: e.suite_version ?? null,
    p_value: e.result?.test?.p_value ?? null,
    power: e.result?.power ?? null,
    // Per-slice results and the slice gate (ADR 0020); null for evaluations decided before slices.
    slices: e.result?.slices ?? null,
    metrics: pairedMetrics(e.result),
    result: e.result,
    created_at: iso(e.created_at),
    completed_at: iso(e.completed_at),
    jobs: jobs.map((j) => ({
      ...j,
      created_at: iso(j['created_at'] as Date),
      updated_at: iso(j['updated_at'] as Date),
    })),
    // Stored model output may be in the storable-text escaped form (ADR 0014): served as generated.
    items: items.map((i) => ({
      ...i,
      item_id: fromStorableText(String(i['item_id'])),
      candidate_output: decodeOutput(i['candidate_output']),
      champion_output: decodeOutput(i['champion_output']),
    })),
  };
}

function decodeOutput(value: unknown): unknown {
  return typeof value === 'string' ? fromStorableText(value) : value;
}
