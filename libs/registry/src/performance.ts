import { championOf } from './aliases';
import { iso, type Db } from './db';
import { getFamily, type ModelFamily } from './families';

/** One row of a model's metrics history: a training run or a score on one suite version. */
export interface MetricsRecord {
  version: string;
  source: 'training' | 'evaluation';
  role: 'candidate' | 'champion' | null;
  suite_version: string | null;
  evaluation_id: string | null;
  accuracy: number | null;
  latency_ms: number | null;
  size_bytes: number | null;
  resources: Record<string, unknown>;
  metrics: Record<string, unknown>;
  recorded_at: string | null;
}

export interface ModelPerformance {
  model_id: string;
  family: ModelFamily | null;
  /** The champion's latest score and its training facts; null before a first promotion. */
  champion: {
    version: string;
    accuracy: number | null;
    suite_version: string | null;
    latency_ms: number | null;
    size_bytes: number | null;
    resources: Record<string, unknown>;
    metrics: Record<string, unknown> | null;
    evaluated_at: string | null;
    /** Latency over the family's target, size over its maximum: what its constraints say about it. */
    within_constraints: { latency: boolean | null; size: boolean | null };
  } | null;
  /** Every recorded score and training run of every version of the model, newest first. */
  history: MetricsRecord[];
}

function record(r: Record<string, unknown>): MetricsRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    version: r['version'] as string,
    source: r['source'] as MetricsRecord['source'],
    role: (r['role'] as MetricsRecord['role']) ?? null,
    suite_version: (r['suite_version'] as string | null) ?? null,
    evaluation_id: (r['evaluation_id'] as string | null) ?? null,
    accuracy: num(r['accuracy']),
    latency_ms: num(r['latency_ms']),
    size_bytes: num(r['size_bytes']),
    resources: r['resources'] as Record<string, unknown>,
    metrics: r['metrics'] as Record<string, unknown>,
    recorded_at: iso(r['recorded_at'] as Date),
  };
}

/**
 * The seed's `get_model_performance`: the champion's current metrics and the model's metrics
 * history, read straight from the registry's tables (nothing cached, nothing recomputed).
 */
export async function modelPerformance(db: Db, modelId: string, limit = 200): Promise<ModelPerformance> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT * FROM model_version_metrics WHERE model_id = $1 ORDER BY recorded_at DESC, id DESC LIMIT $2`,
    [modelId, limit],
  );
  const history = rows.map(record);
  const family = (await getFamily(db, modelId)) ?? null;
  const version = await championOf(db, modelId);
  if (!version) return { model_id: modelId, family, champion: null, history };

  const [score] = await db.query(
    `SELECT * FROM model_version_metrics WHERE version = $1 AND source = 'evaluation'
     ORDER BY recorded_at DESC, id DESC LIMIT 1`,
    [version],
  );
  const [training] = await db.query(
    `SELECT * FROM model_version_metrics WHERE version = $1 AND source = 'training'`,
    [version],
  );
  const [artifact] = await db.query(`SELECT size_bytes FROM model_artifacts WHERE version = $1`, [version]);
  const s = score ? record(score) : null;
  const t = training ? record(training) : null;
  const size =
    artifact?.size_bytes === null || artifact?.size_bytes === undefined ? null : Number(artifact.size_bytes);
  const latency = s?.latency_ms ?? null;
  const c = family?.constraints ?? {};
  return {
    model_id: modelId,
    family,
    champion: {
      version,
      accuracy: s?.accuracy ?? null,
      suite_version: s?.suite_version ?? null,
      latency_ms: latency,
      size_bytes: size,
      resources: t?.resources ?? {},
      metrics: s?.metrics ?? null,
      evaluated_at: s?.recorded_at ?? null,
      within_constraints: {
        latency:
          c.latency_target_ms === undefined || latency === null ? null : latency <= c.latency_target_ms,
        size: c.max_size_bytes === undefined || size === null ? null : size <= c.max_size_bytes,
      },
    },
    history,
  };
}
