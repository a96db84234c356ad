import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { makeEnvelope, type EventEnvelope } from '@genesis/contracts';
import { enqueueEvent } from '@genesis/persistence';
import type { PriorityExplanation, TaskKind, TaskOutcome, TaskResult, TaskStatus } from './domain/task';
import { targetsMet } from './domain/targets';
import { TASK_SUBJECTS } from './task-events';

/** A row of improvement_tasks as node-postgres returns it. */
export interface TaskRow {
  id: string;
  model_id: string;
  kind: TaskKind;
  status: TaskStatus;
  priority: number;
  priority_explanation: PriorityExplanation;
  target_metrics: Record<string, unknown>;
  constraints: Record<string, unknown>;
  requested_by: string;
  automatic: boolean;
  reason: string;
  plan: TaskPlan;
  cycle_id: string | null;
  queued_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  updated_at: Date;
  result: TaskResult | null;
  cancelled_by: string | null;
  completion_event_id: string | null;
}

/** What the planner saw when it asked: the cycle is opened with it (a training task's trigger and counts). */
export interface TaskPlan {
  trigger?: string;
  counts?: Record<string, unknown>;
}

export interface EnqueueTaskInput {
  modelId: string;
  kind: TaskKind;
  priority: number;
  explanation: PriorityExplanation;
  requestedBy: string;
  automatic: boolean;
  reason: string;
  plan?: TaskPlan;
  targetMetrics?: Record<string, unknown>;
  constraints?: Record<string, unknown>;
  now: Date;
  /** The service writing task.queued (the outbox relay of that service publishes it). */
  source: string;
  cause?: EventEnvelope<unknown>;
}

export type EnqueueTaskResult = { created: true; task: TaskRow } | { created: false; existing: TaskRow };

const ACTIVE = `status IN ('queued', 'running')`;

/**
 * Enqueues a task inside the caller's transaction. The partial unique index on (model, kind) of
 * queued-or-running tasks makes a concurrent enqueue wait for the other transaction and then do
 * nothing, so two planners never queue the same work twice. An automatic task already queued is
 * re-planned instead: its priority, explanation and plan become the newer ones.
 */
export async function enqueueTask(m: EntityManager, input: EnqueueTaskInput): Promise<EnqueueTaskResult> {
  const id = randomUUID();
  const rows: TaskRow[] = await m.query(
    `INSERT INTO improvement_tasks (id, model_id, kind, status, priority, priority_explanation, target_metrics,
       constraints, requested_by, automatic, reason, plan, queued_at, updated_at)
     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
     ON CONFLICT (model_id, kind) WHERE ${ACTIVE} DO NOTHING
     RETURNING *`,
    [
      id,
      input.modelId,
      input.kind,
      input.priority,
      JSON.stringify(input.explanation),
      JSON.stringify(input.targetMetrics ?? {}),
      JSON.stringify(input.constraints ?? {}),
      input.requestedBy,
      input.automatic,
      input.reason,
      JSON.stringify(input.plan ?? {}),
      input.now,
    ],
  );
  const task = rows[0];
  if (task) {
    await enqueueEvent(
      m,
      TASK_SUBJECTS.queued,
      taskEvent(TASK_SUBJECTS.queued, task, input.source, input.now, input.cause),
    );
    return { created: true, task };
  }
  if (input.automatic) {
    const [replanned]: [TaskRow[], number] = await m.query(
      `UPDATE improvement_tasks SET priority = $3, priority_explanation = $4, plan = $5, reason = $6, updated_at = $7
       WHERE model_id = $1 AND kind = $2 AND status = 'queued' AND automatic RETURNING *`,
      [
        input.modelId,
        input.kind,
        input.priority,
        JSON.stringify(input.explanation),
        JSON.stringify(input.plan ?? {}),
        input.reason,
        input.now,
      ],
    );
    if (replanned[0]) return { created: false, existing: replanned[0] };
  }
  const [existing] = (await m.query(
    `SELECT * FROM improvement_tasks WHERE model_id = $1 AND kind = $2 AND ${ACTIVE}`,
    [input.modelId, input.kind],
  )) as TaskRow[];
  // The other one may have ended between our insert and this read: report the newest all the same.
  const winner =
    existing ??
    ((
      await m.query(
        `SELECT * FROM improvement_tasks WHERE model_id = $1 AND kind = $2 ORDER BY queued_at DESC LIMIT 1`,
        [input.modelId, input.kind],
      )
    )[0] as TaskRow);
  return { created: false, existing: winner };
}

/** Queued tasks the scheduler may start, highest aged priority first, locked for this transaction. */
export async function queuedTasks(
  m: EntityManager,
  { now, agingPerHour, personsOnly }: { now: Date; agingPerHour: number; personsOnly: boolean },
): Promise<(TaskRow & { effective_priority: number })[]> {
  return m.query(
    `SELECT *, priority + $2 * greatest(0, extract(epoch FROM ($1::timestamptz - queued_at))) / 3600 AS effective_priority
     FROM improvement_tasks WHERE status = 'queued' ${personsOnly ? 'AND NOT automatic' : ''}
     ORDER BY effective_priority DESC, queued_at, id
     FOR UPDATE SKIP LOCKED`,
    [now, agingPerHour],
  );
}

export async function runningTaskCount(m: EntityManager | DataSource): Promise<number> {
  const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM improvement_tasks WHERE status = 'running'`);
  return n as number;
}

/** queued → running with its cycle, and task.started, in the caller's transaction. */
export async function markTaskStarted(
  m: EntityManager,
  taskId: string,
  cycleId: string,
  { now, source, cause }: { now: Date; source: string; cause?: EventEnvelope<unknown> },
): Promise<TaskRow | undefined> {
  const [rows]: [TaskRow[], number] = await m.query(
    `UPDATE improvement_tasks SET status = 'running', cycle_id = $2, started_at = $3, updated_at = $3
     WHERE id = $1 AND status = 'queued' RETURNING *`,
    [taskId, cycleId, now],
  );
  const task = rows[0];
  if (task)
    await enqueueEvent(m, TASK_SUBJECTS.started, taskEvent(TASK_SUBJECTS.started, task, source, now, cause));
  return task;
}

/**
 * A task whose cycle was opened directly (the spec's manual trigger): the queued training task of
 * the model is taken over, or a new one is written as running. Same transaction as the cycle.
 */
export async function recordStartedTask(
  m: EntityManager,
  input: Omit<EnqueueTaskInput, 'automatic'> & { cycleId: string },
): Promise<TaskRow> {
  const [taken]: [TaskRow[], number] = await m.query(
    `UPDATE improvement_tasks SET status = 'running', cycle_id = $3, started_at = $4, updated_at = $4,
       requested_by = $5, automatic = false, reason = $6
     WHERE model_id = $1 AND kind = $2 AND status = 'queued' RETURNING *`,
    [input.modelId, input.kind, input.cycleId, input.now, input.requestedBy, input.reason],
  );
  let task = taken[0];
  if (!task) {
    const rows: TaskRow[] = await m.query(
      `INSERT INTO improvement_tasks (id, model_id, kind, status, priority, priority_explanation, requested_by,
         automatic, reason, plan, cycle_id, queued_at, started_at, updated_at)
       VALUES ($1, $2, $3, 'running', $4, $5, $6, false, $7, $8, $9, $10, $10, $10) RETURNING *`,
      [
        randomUUID(),
        input.modelId,
        input.kind,
        input.priority,
        JSON.stringify(input.explanation),
        input.requestedBy,
        input.reason,
        JSON.stringify(input.plan ?? {}),
        input.cycleId,
        input.now,
      ],
    );
    task = rows[0]!;
  }
  await enqueueEvent(
    m,
    TASK_SUBJECTS.started,
    taskEvent(TASK_SUBJECTS.started, task, input.source, input.now, input.cause),
  );
  return task;
}

/**
 * Ends every running task whose cycle has ended, as its cycle ended, and writes task.completed
 * for each — in the caller's transaction. Exactly once: the update only touches rows still
 * `running`, and a concurrent reconcile waits for the row lock, then finds them ended.
 */
export async function endTasksOfEndedCycles(
  m: EntityManager,
  { now, source, modelId }: { now: Date; source: string; modelId?: string },
): Promise<TaskRow[]> {
  const [rows]: [TaskRow[], number] = await m.query(
    `UPDATE improvement_tasks t SET status = c.status, ended_at = c.phase_entered_at, updated_at = $1,
       result = jsonb_build_object(
         'performance_gain', CASE WHEN c.status = 'deployed' THEN coalesce((e.result ->> 'delta')::float8, 0) ELSE 0 END,
         'measured_delta', (e.result ->> 'delta')::float8,
         'primary_metric', e.result ->> 'primary_metric',
         'metrics', e.result -> 'candidate',
         'execution_seconds', greatest(0, extract(epoch FROM (c.phase_entered_at - t.started_at))),
         'model_version', c.model_version,
         'failure_reason', c.failure_reason,
         'constraints', e.result -> 'constraints')
     FROM improvement_cycles c LEFT JOIN evaluations e ON e.id = c.evaluation_id
     WHERE t.cycle_id = c.id AND t.status = 'running'
       AND c.status IN ('deployed', 'rejected', 'inconclusive', 'failed')
       AND ($2::text IS NULL OR t.model_id = $2)
     RETURNING t.*`,
    [now, modelId ?? null],
  );
  for (const task of rows) {
    // Whether the candidate reached the task's targets (ADR 0027): a deployed task may still have
    // missed them, which its result says (and the planner keeps seeing the model's signals).
    const result = task.result!;
    result.targets_met = targetsMet(task.target_metrics, result.metrics, result.measured_delta);
    const envelope = taskEvent(TASK_SUBJECTS.completed, task, source, now);
    await enqueueEvent(m, TASK_SUBJECTS.completed, envelope);
    await m.query(`UPDATE improvement_tasks SET completion_event_id = $2, result = $3 WHERE id = $1`, [
      task.id,
      envelope.id,
      JSON.stringify(result),
    ]);
  }
  return rows;
}

export type CancelResult =
  | { outcome: 'cancelled'; task: TaskRow }
  | { outcome: 'not_found' }
  | { outcome: 'not_queued'; task: TaskRow };

/** queued → cancelled (a started task runs to its end: its cycle cannot be called back). */
export async function cancelTask(
  m: EntityManager,
  taskId: string,
  { by, now, source }: { by: string; now: Date; source: string },
): Promise<CancelResult> {
  const [rows]: [TaskRow[], number] = await m.query(
    `UPDATE improvement_tasks SET status = 'cancelled', cancelled_by = $2, ended_at = $3, updated_at = $3
     WHERE id = $1 AND status = 'queued' RETURNING *`,
    [taskId, by, now],
  );
  if (rows[0]) {
    await enqueueEvent(m, TASK_SUBJECTS.cancelled, taskEvent(TASK_SUBJECTS.cancelled, rows[0], source, now));
    return { outcome: 'cancelled', task: rows[0] };
  }
  const [task] = (await m.query(`SELECT * FROM improvement_tasks WHERE id = $1`, [taskId])) as TaskRow[];
  return task ? { outcome: 'not_queued', task } : { outcome: 'not_found' };
}

export async function findTask(
  dataSource: DataSource,
  id: string,
): Promise<(TaskRow & { phase: string | null }) | undefined> {
  const [row] = await dataSource.query(
    `SELECT t.*, c.status AS phase FROM improvement_tasks t LEFT JOIN improvement_cycles c ON c.id = t.cycle_id WHERE t.id = $1`,
    [id],
  );
  return row;
}

export interface TaskFilter {
  status?: TaskStatus;
  modelId?: string;
  kind?: TaskKind;
  limit: number;
}

/** Tasks, newest first, with the phase of each running task's cycle. */
export async function listTasks(
  dataSource: DataSource,
  filter: TaskFilter,
): Promise<(TaskRow & { phase: string | null })[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status) where.push(`t.status = $${params.push(filter.status)}`);
  if (filter.modelId) where.push(`t.model_id = $${params.push(filter.modelId)}`);
  if (filter.kind) where.push(`t.kind = $${params.push(filter.kind)}`);
  params.push(filter.limit);
  return dataSource.query(
    `SELECT t.*, c.status AS phase FROM improvement_tasks t LEFT JOIN improvement_cycles c ON c.id = t.cycle_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY t.queued_at DESC, t.id DESC LIMIT $${params.length}`,
    params,
  );
}

/** The API's view of a task. */
export function taskView(t: TaskRow & { phase?: string | null }) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: t.id,
    model_id: t.model_id,
    kind: t.kind,
    status: t.status,
    // Inside `running`, the phase is the cycle's: opened, training, evaluating, …
    phase: t.status === 'running' ? (t.phase ?? null) : null,
    priority: t.priority,
    priority_explanation: t.priority_explanation,
    target_metrics: t.target_metrics,
    constraints: t.constraints,
    requested_by: t.requested_by,
    automatic: t.automatic,
    reason: t.reason,
    cycle_id: t.cycle_id,
    queued_at: t.queued_at.toISOString(),
    started_at: iso(t.started_at),
    ended_at: iso(t.ended_at),
    result: t.result,
    cancelled_by: t.cancelled_by,
  };
}

/** The envelope of a task lifecycle event (data: the task as the API shows it). */
function taskEvent(
  subject: string,
  task: TaskRow,
  source: string,
  now: Date,
  cause?: EventEnvelope<unknown>,
) {
  const data = {
    task_id: task.id,
    model_id: task.model_id,
    kind: task.kind,
    status: task.status as TaskStatus,
    priority: task.priority,
    priority_summary: task.priority_explanation.summary,
    requested_by: task.requested_by,
    automatic: task.automatic,
    reason: task.reason,
    cycle_id: task.cycle_id,
    ...(task.result ? { result: task.result } : {}),
    at: now.toISOString(),
  };
  return makeEnvelope(subject, data, {
    source,
    modelId: task.model_id,
    ...(task.cycle_id ? { cycleId: task.cycle_id } : {}),
    time: now,
    correlationId: cause?.correlation_id ?? task.id,
    causationId: cause?.id ?? task.id,
  });
}

export type { TaskOutcome };
