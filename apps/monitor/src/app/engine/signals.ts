import type { DataSource } from 'typeorm';
import type { ModelFacts, TriggerEvaluation, TriggerThresholds } from '@genesis/cycles';
import type { ModelSignals } from '@genesis/engine';
import { gauge } from '@genesis/observability';

/** The champion's measured latency, as the planner sees it (ADR 0027; Grafana's latency panel). */
const modelLatency = gauge(
  'genesis_model_latency_ms',
  "The champion's mean generation latency per evaluated item in ms, from its latest evaluation",
  ['model_id'],
);

const modelLatencyTarget = gauge(
  'genesis_model_latency_target_ms',
  "The family's latency_target_ms (mean generation ms per evaluated item), where one is set",
  ['model_id'],
);

/** Deployments read for the accuracy trend and the "flat gain" rule. */
const DEPLOYMENTS_READ = 5;

/**
 * A model's measured signals (ADR 0024): the trigger's counts, plus the trends the planner reads
 * from the feedback window and the last deployments. All from the tables.
 */
export async function loadSignals(
  dataSource: DataSource,
  facts: ModelFacts,
  t: TriggerThresholds,
  evaluation: TriggerEvaluation,
): Promise<ModelSignals> {
  const [row] = await dataSource.query(
    `SELECT
       (SELECT coalesce(json_agg(outcome ORDER BY recorded_at DESC), '[]'::json) FROM
          (SELECT outcome, recorded_at FROM feedback WHERE model_id = $1 ORDER BY recorded_at DESC LIMIT $2) w) AS outcomes,
       (SELECT coalesce(json_agg(json_build_object('score', score, 'delta', delta) ORDER BY deployed_at DESC), '[]'::json) FROM
          (SELECT c.score, c.deployed_at, (e.result ->> 'delta')::float8 AS delta
           FROM improvement_cycles c LEFT JOIN evaluations e ON e.id = c.evaluation_id
           WHERE c.model_id = $1 AND c.status = 'deployed' ORDER BY c.deployed_at DESC LIMIT $3) d) AS deployments,
       (SELECT mvm.latency_ms FROM model_aliases a JOIN model_version_metrics mvm ON mvm.version = a.version
        WHERE a.model_id = $1 AND a.alias = 'champion' AND mvm.source = 'evaluation' AND mvm.latency_ms IS NOT NULL
        ORDER BY mvm.recorded_at DESC, mvm.id DESC LIMIT 1) AS latency_ms,
       (SELECT (constraints ->> 'latency_target_ms')::float8 FROM model_families WHERE id = $1) AS latency_target_ms,
       (SELECT result -> 'targets_met' -> 'metrics' FROM improvement_tasks
        WHERE model_id = $1 AND ended_at IS NOT NULL AND jsonb_typeof(result -> 'targets_met') = 'object'
        ORDER BY ended_at DESC LIMIT 1) AS targets`,
    [facts.modelId, t.feedbackWindow, DEPLOYMENTS_READ],
  );
  const outcomes = row.outcomes as string[];
  const deployments = row.deployments as { score: number | null; delta: number | null }[];
  const rate = (xs: string[]) => (xs.length ? xs.filter((o) => o === 'corrected').length / xs.length : null);
  const half = Math.floor(outcomes.length / 2);
  const newer = rate(outcomes.slice(0, half));
  const older = rate(outcomes.slice(half));
  const c = evaluation.counts;
  const latency = numberOrNull(row.latency_ms);
  const target = numberOrNull(row.latency_target_ms);
  if (latency !== null) modelLatency.set({ model_id: facts.modelId }, latency);
  if (target !== null) modelLatencyTarget.set({ model_id: facts.modelId }, target);
  else modelLatencyTarget.remove({ model_id: facts.modelId });
  const scores = deployments.map((d) => d.score).filter((s): s is number => typeof s === 'number');
  return {
    backlog: round(c.learnings_since_training / Math.max(1, c.learning_threshold)),
    staleness: round(c.days_since_training / Math.max(1, c.time_threshold_days)),
    accuracy: c.accuracy ?? null,
    accuracy_gap:
      c.accuracy === null || c.accuracy === undefined
        ? null
        : round(Math.max(0, t.performanceThreshold - c.accuracy)),
    accuracy_trend: scores.length >= 2 ? round(scores[0]! - scores[1]!) : null,
    negative_feedback_rate: rate(outcomes) === null ? null : round(rate(outcomes)!),
    negative_feedback_trend: half >= 2 && newer !== null && older !== null ? round(newer - older) : null,
    recent_rejections: c.consecutive_rejections,
    recent_gains: deployments.map((d) => d.delta ?? 0),
    latency_ms: latency === null ? null : round(latency),
    latency_target_ms: target,
    latency_over_target:
      latency === null || target === null || target <= 0 ? null : round(Math.max(0, latency / target - 1)),
    targets_unmet: unmetShare(row.targets as Record<string, { met: boolean }> | null),
  };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
/** The share of a task's targets_met.metrics not reached; null without targets. */
const unmetShare = (metrics: Record<string, { met: boolean }> | null) => {
  const all = Object.values(metrics ?? {});
  return all.length ? round(all.filter((m) => !m.met).length / all.length) : null;
};
const numberOrNull = (v: unknown) =>
  v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
