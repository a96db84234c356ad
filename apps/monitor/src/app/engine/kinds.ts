import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@genesis/contracts';
import { openCycle, type CycleKind, type TriggerKind } from '@genesis/cycles';
import type { TaskKind, TaskRow } from '@genesis/engine';

/**
 * How a kind starts (ADR 0024). A kind plugs in with its planner rule (planner.ts), this start
 * function and its gate policy (the evaluator's decision for its cycle); the scheduler core never
 * names a kind. Returns the cycle the task now runs as, or null when the model's cycle slot is
 * taken (a cycle opened outside the engine): the task then waits in the queue.
 */
export type StartTask = (
  m: EntityManager,
  task: TaskRow,
  now: Date,
  cause?: EventEnvelope<unknown>,
) => Promise<string | null>;

/**
 * Opens the task's cycle: training is a LoRA retrain from the base; architecture a budgeted Optuna
 * search over the LoRA configuration whose best trial is the candidate (ADR 0025). Both are one
 * improvement cycle announced by threshold.reached; the trainer-bridge sends the job of the
 * cycle's kind, and the same gate decides.
 */
function startCycleOfKind(kind: CycleKind): StartTask {
  return async (m, task, now, cause) => {
    const trigger = (task.plan.trigger ?? 'manual') as TriggerKind;
    const opened = await openCycle(m, {
      modelId: task.model_id,
      kind,
      trigger,
      reason: task.reason,
      counts: (task.plan.counts ?? {}) as never,
      now,
      ...(task.automatic ? {} : { requestedBy: task.requested_by }),
      announce: { source: 'monitor', cause },
    });
    if (!opened.opened) return null;
    // The task's targets and constraints travel with its cycle: the gate reads them there (ADR 0027).
    await m.query(`UPDATE improvement_cycles SET targets = $2 WHERE id = $1`, [
      opened.cycle.id,
      JSON.stringify({ target_metrics: task.target_metrics ?? {}, constraints: task.constraints ?? {} }),
    ]);
    return opened.cycle.id;
  };
}

/** Kinds this build can run (RUNNABLE_TASK_KINDS in libs/engine; a spec keeps the two equal). */
export const KIND_STARTERS: Partial<Record<TaskKind, StartTask>> = {
  training: startCycleOfKind('training'),
  architecture: startCycleOfKind('architecture'),
};

export function isRunnableKind(kind: TaskKind): boolean {
  return KIND_STARTERS[kind] !== undefined;
}
