import { ago, num, table, truncate } from '../output/format';

/** A task as GET /api/v1/tasks shows it (the fields the CLI prints). */
export interface TaskView {
  id: string;
  model_id: string;
  kind: string;
  status: string;
  phase: string | null;
  priority: number;
  priority_explanation: { summary: string };
  requested_by: string;
  reason: string;
  cycle_id: string | null;
  queued_at: string;
  result: { performance_gain: number } | null;
}

export interface IterationView {
  iteration: number;
  trigger: string;
  ended_at: string;
  models_checked: number;
  tasks_enqueued: number;
  tasks_completed: number;
  models_improved: number;
  total_gain: number;
  best_gain: number | null;
  avg_execution_seconds: number | null;
  resources: { concurrency?: { limit?: number } };
}

export function formatTasks(items: TaskView[], now = new Date()): string[] {
  if (items.length === 0) return ['no improvement tasks (`genesis tasks add` queues one)'];
  return table(
    ['ID', 'MODEL', 'KIND', 'STATUS', 'PRIORITY', 'QUEUED', 'BY', 'WHY'],
    items.map((t) => [
      t.id,
      t.model_id,
      t.kind,
      t.status === 'running' && t.phase ? `running (${t.phase})` : t.status,
      num(t.priority, 2),
      ago(t.queued_at, now),
      t.requested_by,
      truncate(t.priority_explanation.summary, 60),
    ]),
  );
}

export function formatHistory(items: IterationView[], now = new Date()): string[] {
  if (items.length === 0) return ['no planning iteration yet'];
  return table(
    [
      'ITERATION',
      'TRIGGER',
      'ENDED',
      'MODELS',
      'QUEUED',
      'COMPLETED',
      'IMPROVED',
      'GAIN',
      'BEST',
      'AVG S',
      'LIMIT',
    ],
    items.map((i) => [
      String(i.iteration),
      i.trigger,
      ago(i.ended_at, now),
      String(i.models_checked),
      String(i.tasks_enqueued),
      String(i.tasks_completed),
      String(i.models_improved),
      num(i.total_gain, 4),
      num(i.best_gain, 4),
      i.avg_execution_seconds === null ? '—' : i.avg_execution_seconds.toFixed(0),
      String(i.resources.concurrency?.limit ?? '—'),
    ]),
  );
}
