import type { DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { TERMINAL_STATUSES, type CycleStatus } from './domain/cycle-state';
import { thresholdsOf } from './trigger-policy.config';
import {
  statusDocument,
  type ImprovementStatus,
  type ModelFacts,
  type TriggerPolicy,
  type TriggerThresholds,
} from './domain/trigger-policy';

/** Finished cycles read per decision: the back-off reaches its cap well before 32 rejections in a row. */
const ENDED_CYCLES_READ = 32;

/**
 * Everything a trigger decision and the status document need, in one round trip. All of it is
 * derived from the tables (learnings, improvement_cycles, feedback, monitor_checks): nothing is
 * a hand-kept counter, so the numbers are right after any restart.
 */
export async function loadModelFacts(
  dataSource: DataSource,
  modelId: string,
  t: TriggerThresholds,
): Promise<ModelFacts> {
  const [row] = await dataSource.query(
    `WITH fresh AS (
       SELECT count(*)::int AS n, min(stored_at) AS oldest FROM learnings
       WHERE model_id = $1 AND status = 'accepted' AND snapshot_id IS NULL),
     -- The champion: what the registry's alias points at, and nothing else (ADR 0022; a rollback
     -- moves it back). Its score is the offline accuracy of the cycle that promoted it.
     champion AS (
       SELECT a.version AS model_version, c.score
       FROM model_aliases a LEFT JOIN improvement_cycles c ON c.model_version = a.version AND c.status = 'deployed'
       WHERE a.model_id = $1 AND a.alias = 'champion'
       ORDER BY c.deployed_at DESC NULLS LAST LIMIT 1),
     fb AS (
       SELECT count(*)::int AS samples, count(*) FILTER (WHERE outcome = 'accepted')::int AS accepted
       FROM (SELECT outcome FROM feedback
             WHERE model_id = $1 AND ((SELECT model_version FROM champion) IS NULL
                                      OR model_version = (SELECT model_version FROM champion))
             ORDER BY recorded_at DESC LIMIT $2) w)
     SELECT fresh.n, fresh.oldest,
       (SELECT max(deployed_at) FROM improvement_cycles WHERE model_id = $1 AND status = 'deployed') AS last_training_time,
       (SELECT model_version FROM champion) AS current_model,
       (SELECT score FROM champion) AS offline_score,
       (SELECT count(*)::int FROM improvement_cycles WHERE model_id = $1 AND status = 'deployed') AS training_runs,
       fb.samples, fb.accepted,
       (SELECT checked_at FROM monitor_checks WHERE model_id = $1) AS last_check_time,
       (SELECT json_build_object('id', id, 'status', status) FROM improvement_cycles
        WHERE model_id = $1 AND status NOT IN ('deployed', 'rejected', 'inconclusive', 'failed')) AS active,
       (SELECT max(failed_at) FROM improvement_cycles WHERE model_id = $1 AND status = 'failed') AS last_failed_at,
       -- A finished cycle's phase_entered_at is when it entered its terminal status: when it ended.
       (SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'ended_at', phase_entered_at)
                                 ORDER BY phase_entered_at DESC), '[]'::json)
        FROM (SELECT id, status, phase_entered_at FROM improvement_cycles
              WHERE model_id = $1 AND status = ANY($3::text[])
              ORDER BY phase_entered_at DESC LIMIT ${ENDED_CYCLES_READ}) e) AS ended,
       (SELECT count(*)::int FROM learnings WHERE model_id = $1 AND status = 'accepted'
          AND stored_at > coalesce((SELECT max(phase_entered_at) FROM improvement_cycles
                                    WHERE model_id = $1 AND status = ANY($3::text[])), '-infinity')) AS new_learnings,
       (SELECT count(*)::int FROM feedback WHERE model_id = $1
          AND recorded_at > coalesce((SELECT max(phase_entered_at) FROM improvement_cycles
                                      WHERE model_id = $1 AND status = ANY($3::text[])), '-infinity')) AS new_feedback,
       (SELECT json_build_object('id', c.id, 'status', c.status, 'opened_at', c.opened_at,
                                 'power', e.result -> 'power', 'min_improvement', e.result -> 'min_improvement')
        FROM improvement_cycles c LEFT JOIN evaluations e ON e.id = c.evaluation_id
        WHERE c.model_id = $1 AND c.status = ANY($3::text[])
        ORDER BY c.opened_at DESC LIMIT 1) AS last_ended
     FROM fresh, fb`,
    [modelId, t.feedbackWindow, TERMINAL_STATUSES],
  );
  const ended = row.ended as { id: string; status: CycleStatus; ended_at: string }[];
  return {
    modelId,
    newLearnings: row.n,
    oldestNewLearningAt: row.oldest,
    lastTrainingTime: row.last_training_time,
    currentModel: row.current_model,
    trainingRuns: row.training_runs,
    offlineScore: row.offline_score,
    feedback: { samples: row.samples, accepted: row.accepted },
    lastCheckTime: row.last_check_time,
    activeCycle: row.active as { id: string; status: CycleStatus } | null,
    lastFailedAt: row.last_failed_at,
    endedCycles: ended.map((c) => ({ id: c.id, status: c.status, endedAt: new Date(c.ended_at) })),
    evidenceSinceLastCycle: { learnings: row.new_learnings, feedback: row.new_feedback },
    lastEndedCycle: row.last_ended
      ? {
          id: row.last_ended.id,
          status: row.last_ended.status as CycleStatus,
          openedAt: new Date(row.last_ended.opened_at),
          power: row.last_ended.power ?? null,
          minImprovement: row.last_ended.min_improvement ?? null,
        }
      : null,
  };
}

/** Models the monitor looks after: any with learnings, cycles, feedback or an earlier check. */
export async function knownModels(dataSource: DataSource, extra: string[] = []): Promise<string[]> {
  const rows: { model_id: string }[] = await dataSource.query(
    `SELECT model_id FROM monitor_checks
     UNION SELECT DISTINCT model_id FROM learnings WHERE status = 'accepted' AND snapshot_id IS NULL
     UNION SELECT DISTINCT model_id FROM improvement_cycles
     UNION SELECT DISTINCT model_id FROM feedback
     UNION SELECT id FROM model_families`,
  );
  return [...new Set([...extra, ...rows.map((r) => r.model_id)])].sort();
}

export async function computeStatus(
  dataSource: DataSource,
  policy: TriggerPolicy,
  modelId: string,
  now: Date,
): Promise<ImprovementStatus> {
  const t = await thresholdsOf(dataSource, policy, modelId);
  return statusDocument(await loadModelFacts(dataSource, modelId, t), t, now, policy.rejectionBackoff);
}

/** The hot status cache: written by the monitor on every check, read by the gateway. */
export const statusCacheKey = (modelId: string) => `genesis:improvement:status:v1:${modelId}`;

export async function writeStatusCache(
  redis: Redis,
  modelId: string,
  status: ImprovementStatus,
  ttlSeconds: number,
) {
  await redis.set(statusCacheKey(modelId), JSON.stringify(status), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
}

export async function readStatusCache(redis: Redis, modelId: string): Promise<ImprovementStatus | undefined> {
  const text = await redis.get(statusCacheKey(modelId));
  return text ? (JSON.parse(text) as ImprovementStatus) : undefined;
}
