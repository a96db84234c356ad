import type { DataSource } from 'typeorm';
import { knownModels } from '@genesis/cycles';
import { readLoop } from './loop-store';

/**
 * The models the engine plans over: the registered model families (ADR 0022; knownModels lists
 * them) and any model with waiting learnings, cycles, feedback or an earlier check, so that a
 * learning that reached the learner without the gateway's registration check (published straight
 * to the bus) is still planned rather than silently never trained on; plus any model with a task.
 */
export async function registeredModels(dataSource: DataSource, configured: string[] = []): Promise<string[]> {
  const rows: { model_id: string }[] = await dataSource.query(
    `SELECT DISTINCT model_id FROM improvement_tasks`,
  );
  const models = await knownModels(dataSource, configured);
  return [...new Set([...models, ...rows.map((r) => r.model_id)])].sort();
}

/** The seed's engine status. */
export interface EngineStatus {
  iteration: number;
  total_improvements: number;
  active_tasks: number;
  queued_tasks: number;
  models_registered: number;
  improvement_active: boolean;
  /**
   * What the last iteration found needed but could not queue because the kind is not runnable
   * yet (ADR 0027): e.g. a model whose champion is over its latency target needs `optimisation`.
   */
  pending_needs: { model_id: string; kind: 'optimisation'; reason: string }[];
}

export async function engineStatus(dataSource: DataSource, configured: string[] = []): Promise<EngineStatus> {
  const [row] = await dataSource.query(
    `SELECT (SELECT coalesce(max(iteration), 0)::int FROM engine_iterations) AS iteration,
            (SELECT count(*)::int FROM improvement_tasks WHERE status = 'deployed') AS total_improvements,
            (SELECT count(*)::int FROM improvement_tasks WHERE status = 'running') AS active_tasks,
            (SELECT count(*)::int FROM improvement_tasks WHERE status = 'queued') AS queued_tasks`,
  );
  const loop = await readLoop(dataSource);
  const needs: { model_id: string; reason: string }[] = await dataSource.query(
    `SELECT m.key AS model_id, m.value -> 'optimisation' ->> 'reason' AS reason
     FROM (SELECT signals FROM engine_iterations ORDER BY iteration DESC LIMIT 1) i, jsonb_each(i.signals) m
     WHERE (m.value -> 'optimisation' ->> 'needed')::boolean ORDER BY m.key`,
  );
  return {
    iteration: row.iteration,
    total_improvements: row.total_improvements,
    active_tasks: row.active_tasks,
    queued_tasks: row.queued_tasks,
    models_registered: (await registeredModels(dataSource, configured)).length,
    improvement_active: loop.running,
    pending_needs: needs.map((n) => ({
      model_id: n.model_id,
      kind: 'optimisation' as const,
      reason: n.reason,
    })),
  };
}
