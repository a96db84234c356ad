import type { DataSource, EntityManager } from 'typeorm';

export type IterationTrigger = 'interval' | 'forced';

export interface IterationInput {
  trigger: IterationTrigger;
  startedAt: Date;
  endedAt: Date;
  modelsChecked: number;
  tasksEnqueued: number;
  /** What the planner measured, per model and kind. */
  signals: Record<string, unknown>;
  /** The workers and the concurrency limit in force. */
  resources: Record<string, unknown>;
}

/** A row of engine_iterations (the seed's SelfImprovementMetrics). */
export interface IterationRow {
  iteration: number;
  trigger: IterationTrigger;
  started_at: Date;
  ended_at: Date;
  window_start: Date | null;
  models_checked: number;
  tasks_enqueued: number;
  tasks_completed: number;
  models_improved: number;
  total_gain: number;
  best_gain: number | null;
  avg_execution_seconds: number | null;
  signals: Record<string, unknown>;
  resources: Record<string, unknown>;
}

/**
 * Records an iteration. Its task figures are computed from improvement_tasks by SQL, over the
 * tasks that ended since the previous iteration ended (its window): so the history is what the
 * tables say, never a counter kept on the side. Iterations are numbered in order under a
 * transaction-scoped advisory lock, so two planner replicas never write the same number.
 */
export async function recordIteration(m: EntityManager, input: IterationInput): Promise<IterationRow> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('genesis-engine-iterations'))`);
  const rows: IterationRow[] = await m.query(
    `WITH prev AS (SELECT max(iteration) AS n, max(ended_at) AS ended FROM engine_iterations),
     done AS (
       SELECT * FROM improvement_tasks
       WHERE ended_at IS NOT NULL AND status <> 'cancelled' AND ended_at <= $3
         AND ended_at > coalesce((SELECT ended FROM prev), '-infinity'))
     INSERT INTO engine_iterations (iteration, trigger, started_at, ended_at, window_start, models_checked,
       tasks_enqueued, tasks_completed, models_improved, total_gain, best_gain, avg_execution_seconds, signals, resources)
     SELECT coalesce((SELECT n FROM prev), 0) + 1, $1, $2, $3, (SELECT ended FROM prev), $4, $5,
       (SELECT count(*)::int FROM done),
       (SELECT count(DISTINCT model_id)::int FROM done WHERE status = 'deployed'),
       (SELECT coalesce(sum((result ->> 'performance_gain')::float8), 0) FROM done),
       (SELECT max((result ->> 'performance_gain')::float8) FROM done WHERE status = 'deployed'),
       (SELECT avg((result ->> 'execution_seconds')::float8) FROM done),
       $6, $7
     RETURNING *`,
    [
      input.trigger,
      input.startedAt,
      input.endedAt,
      input.modelsChecked,
      input.tasksEnqueued,
      JSON.stringify(input.signals),
      JSON.stringify(input.resources),
    ],
  );
  return rows[0]!;
}

export async function listHistory(dataSource: DataSource, limit: number): Promise<IterationRow[]> {
  return dataSource.query(`SELECT * FROM engine_iterations ORDER BY iteration DESC LIMIT $1`, [limit]);
}

export function iterationView(r: IterationRow) {
  return {
    iteration: r.iteration,
    trigger: r.trigger,
    started_at: r.started_at.toISOString(),
    ended_at: r.ended_at.toISOString(),
    window_start: r.window_start?.toISOString() ?? null,
    models_checked: r.models_checked,
    tasks_enqueued: r.tasks_enqueued,
    tasks_completed: r.tasks_completed,
    models_improved: r.models_improved,
    total_gain: r.total_gain,
    best_gain: r.best_gain,
    avg_execution_seconds: r.avg_execution_seconds,
    signals: r.signals,
    resources: r.resources,
  };
}
