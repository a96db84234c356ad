import type { DataSource } from 'typeorm';
import { fromStorableText } from '@genesis/contracts';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/**
 * model_versions with each version's taints (ADR 0017) as a `taints` JSON array: every rescan or
 * forget job that changed a snapshot the version was trained on.
 */
export const VERSIONS_WITH_TAINTS = `SELECT v.*, (
    SELECT coalesce(json_agg(json_build_object('rescan_id', t.rescan_id, 'snapshot_id', t.snapshot_id,
      'reason', t.reason, 'learning_ids', t.learning_ids, 'tainted_at', t.tainted_at) ORDER BY t.tainted_at), '[]'::json)
    FROM model_version_taints t WHERE t.version = v.version) AS taints
  FROM model_versions v`;

/** A model_versions row as the API shows it. */
export function versionView(r: Record<string, unknown>, champion: string | null) {
  const taints = (r['taints'] as unknown[] | undefined) ?? [];
  return {
    version: r['version'],
    model_id: r['model_id'],
    status: r['status'],
    is_champion: r['version'] === champion,
    base_model: r['base_model'],
    parent_version: r['parent_version'],
    cycle_id: r['cycle_id'],
    snapshot_id: r['snapshot_id'],
    created_at: iso(r['created_at'] as Date),
    metrics: r['metrics'],
    artifact: r['artifact'],
    tainted: taints.length > 0,
    taints,
  };
}

export async function championOf(dataSource: DataSource, modelId: string): Promise<string | null> {
  const [row] = await dataSource.query(
    `SELECT version FROM model_aliases WHERE model_id = $1 AND alias = 'champion'`,
    [modelId],
  );
  return row?.version ?? null;
}

export async function aliasHistory(dataSource: DataSource, modelId: string, limit = 100) {
  const rows: Record<string, unknown>[] = await dataSource.query(
    `SELECT h.alias, h.model_id, h.from_version, h.to_version, h.kind, h.actor, h.reason, h.moved_at,
       d.target, d.served_as
     FROM alias_history h LEFT JOIN deployments d ON d.id = h.deployment_id
     WHERE h.model_id = $1 ORDER BY h.id DESC LIMIT $2`,
    [modelId, limit],
  );
  return rows.map((r): Record<string, unknown> => ({ ...r, moved_at: iso(r['moved_at'] as Date) }));
}

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
    `SELECT id AS job_id, role, attempt, status, result->'metrics' AS metrics,
       CASE WHEN error IS NULL THEN NULL ELSE (error->>'code') || ': ' || (error->>'message') END AS failure, deadline, created_at, updated_at
     FROM jobs WHERE kind = 'evaluation' AND parent_id = $1 ORDER BY role, attempt DESC`,
    [id],
  );
  const items: Record<string, unknown>[] = await dataSource.query(
    `SELECT item_id, split, learning_id, candidate_correct, champion_correct,
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
