import { modelVersionName, type EvaluationMetrics, type TrainingCompletedV1 } from '@genesis/contracts';
import { championOf } from './aliases';
import type { ArtifactKind } from './artifact-kinds';
import { iso, type Db } from './db';

export interface CandidateInput {
  modelId: string;
  cycleId: string;
  baseModel: string;
  snapshotId: string;
  jobId: string;
  artifact: TrainingCompletedV1['artifact'];
  artifactKind: ArtifactKind;
  /** The worker's training metrics (loss, steps, tokens, seconds …). */
  metrics: TrainingCompletedV1['metrics'];
  hyperparameters: Record<string, unknown>;
  device?: string;
  at: Date;
}

/**
 * Registers a trained candidate under an immutable `<model_id>-YYYYMMDD-HHMMSS` name (suffixed if
 * that second is taken), its artifact, and its training row of the metrics history; the parent is
 * the champion the alias names now. Returns the version name.
 */
export async function registerCandidate(m: Db, c: CandidateInput): Promise<string> {
  // The base name and its -N siblings; starts_with, not LIKE: a model id may hold '_'.
  const base = modelVersionName(c.modelId, c.at);
  const [taken] = await m.query(
    `SELECT count(*)::int AS n FROM model_versions WHERE version = $1 OR starts_with(version, $1 || '-')`,
    [base],
  );
  const version = modelVersionName(c.modelId, c.at, taken.n);
  await m.query(
    `INSERT INTO model_versions (version, model_id, cycle_id, base_model, parent_version, snapshot_id, job_id, status,
       artifact, metrics, hyperparameters)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'candidate', $8, $9, $10)`,
    [
      version,
      c.modelId,
      c.cycleId,
      c.baseModel,
      await championOf(m, c.modelId),
      c.snapshotId,
      c.jobId,
      JSON.stringify(c.artifact),
      JSON.stringify(c.metrics),
      JSON.stringify(c.hyperparameters),
    ],
  );
  const a = c.artifact;
  await m.query(
    `INSERT INTO model_artifacts (version, model_id, kind, format, bucket, key, config_key, sha256, size_bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [version, c.modelId, c.artifactKind, a.format, a.bucket, a.key, a.config_key, a.sha256, a.size_bytes],
  );
  const resources = {
    train_seconds: c.metrics.train_seconds,
    tokens_per_second: c.metrics.tokens_per_second,
    tokens: c.metrics.tokens,
    ...(c.device ? { device: c.device } : {}),
  };
  await m.query(
    `INSERT INTO model_version_metrics (version, model_id, source, size_bytes, resources, metrics)
     VALUES ($1, $2, 'training', $3, $4, $5)`,
    [version, c.modelId, a.size_bytes, JSON.stringify(resources), JSON.stringify(c.metrics)],
  );
  return version;
}

/** The gate said no (or could not tell): a candidate that was never promoted stays out of serving. */
export async function markRejected(m: Db, version: string): Promise<void> {
  await m.query(`UPDATE model_versions SET status = 'rejected' WHERE version = $1 AND status = 'candidate'`, [
    version,
  ]);
}

export interface ScoredModel {
  /** null: the bare base model (no registry row, nothing recorded). */
  version: string | null;
  role: 'candidate' | 'champion';
  metrics: EvaluationMetrics;
  /** Mean generation time per item, when the worker reported its duration. */
  latencyMs: number | null;
}

/**
 * One evaluation's scores into the metrics history (one row per model and evaluation, whatever
 * the redeliveries) and onto the versions' `metrics` document the API always showed: the
 * candidate's `evaluation` and `accuracy`, and both models' score per suite version in `by_suite`
 * (ADR 0016: only scores on the same suite version are compared).
 */
export async function recordEvaluation(
  m: Db,
  e: { evaluationId: string; modelId: string; suiteVersion: string | null; scores: ScoredModel[] },
): Promise<void> {
  for (const s of e.scores) {
    if (!s.version) continue;
    await m.query(
      `INSERT INTO model_version_metrics (version, model_id, source, suite_version, evaluation_id, role, accuracy,
         latency_ms, size_bytes, metrics)
       VALUES ($1, $2, 'evaluation', $3, $4, $5, $6, $7, (SELECT size_bytes FROM model_artifacts WHERE version = $1), $8)
       ON CONFLICT (evaluation_id, version) WHERE source = 'evaluation' DO NOTHING`,
      [
        s.version,
        e.modelId,
        e.suiteVersion,
        e.evaluationId,
        s.role,
        s.metrics.accuracy,
        s.latencyMs,
        JSON.stringify(s.metrics),
      ],
    );
    if (s.role === 'candidate')
      await m.query(
        `UPDATE model_versions SET metrics = metrics || jsonb_build_object('evaluation', $2::jsonb, 'accuracy', $3::float8)
         WHERE version = $1`,
        [s.version, JSON.stringify(s.metrics), s.metrics.accuracy],
      );
    if (e.suiteVersion)
      await m.query(
        `UPDATE model_versions SET metrics = metrics || jsonb_build_object('by_suite',
           coalesce(metrics->'by_suite', '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb))
         WHERE version = $1`,
        [s.version, e.suiteVersion, JSON.stringify({ ...s.metrics, evaluation_id: e.evaluationId })],
      );
  }
}

/**
 * A rescan or forget rewrote a snapshot (ADR 0017): every version trained on it is tainted, once
 * per rescan. Returns the versions marked now.
 */
export async function taintVersionsTrainedOn(
  m: Db,
  t: { snapshotId: string; rescanId: string; reason: string; learningIds: string[] },
): Promise<string[]> {
  const rows: { version: string }[] = await m.query(
    `INSERT INTO model_version_taints (version, rescan_id, snapshot_id, reason, learning_ids)
     SELECT version, $2::uuid, $1::uuid, $3::text, $4::uuid[] FROM model_versions WHERE snapshot_id = $1::uuid
     ON CONFLICT DO NOTHING RETURNING version`,
    [t.snapshotId, t.rescanId, t.reason, t.learningIds],
  );
  return rows.map((r) => r.version);
}

/**
 * A version's status as every reader shows it: `champion` when the alias points at it, `retired`
 * when it was promoted once and no longer is, else the gate's word (candidate, rejected).
 */
const STATUS = `CASE WHEN EXISTS (SELECT 1 FROM model_aliases a WHERE a.version = v.version AND a.alias = 'champion')
    THEN 'champion' WHEN v.status = 'promoted' THEN 'retired' ELSE v.status END`;

/**
 * Versions with their derived status, artifact (kind, backup state) and taints (ADR 0017: every
 * rescan or forget job that changed a snapshot the version was trained on).
 */
const VERSIONS = `SELECT v.version, v.model_id, v.cycle_id, v.base_model, v.parent_version, v.snapshot_id, v.job_id,
    v.metrics, v.hyperparameters, v.created_at, ${STATUS} AS status,
    CASE WHEN ar.version IS NULL THEN v.artifact ELSE v.artifact || jsonb_strip_nulls(jsonb_build_object(
      'kind', ar.kind, 'pruned_at', ar.pruned_at, 'pruned_reason', ar.pruned_reason)) END AS artifact,
    (SELECT coalesce(json_agg(json_build_object('rescan_id', t.rescan_id, 'snapshot_id', t.snapshot_id,
      'reason', t.reason, 'learning_ids', t.learning_ids, 'tainted_at', t.tainted_at) ORDER BY t.tainted_at), '[]'::json)
     FROM model_version_taints t WHERE t.version = v.version) AS taints
  FROM model_versions v LEFT JOIN model_artifacts ar ON ar.version = v.version`;

export type VersionRow = Record<string, unknown> & { version: string; model_id: string; status: string };

export async function listVersions(db: Db, modelId: string, limit: number): Promise<VersionRow[]> {
  return db.query(`${VERSIONS} WHERE v.model_id = $1 ORDER BY v.created_at DESC, v.version DESC LIMIT $2`, [
    modelId,
    limit,
  ]);
}

export async function getVersion(db: Db, version: string): Promise<VersionRow | undefined> {
  const [row] = await db.query(`${VERSIONS} WHERE v.version = $1`, [version]);
  return row;
}

/** A version row as the API shows it. */
export function versionView(r: Record<string, unknown>) {
  const taints = (r['taints'] as unknown[] | undefined) ?? [];
  return {
    version: r['version'],
    model_id: r['model_id'],
    status: r['status'],
    is_champion: r['status'] === 'champion',
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
