/* Generated from libs/contracts/schemas/events/task.queued.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * task.queued v1 — an improvement task joined the queue (planner or a person)
 */
export interface TaskQueuedV1 {
  task_id: string;
  model_id: string;
  kind: 'training' | 'architecture' | 'optimisation' | 'distillation';
  status: 'queued';
  priority: number;
  priority_summary: string;
  requested_by: string;
  automatic: boolean;
  reason: string;
  cycle_id: string | null;
  result?: {
    performance_gain: number;
    measured_delta?: number | null;
    primary_metric?: string | null;
    metrics?: {
      [k: string]: unknown;
    } | null;
    execution_seconds: number;
    model_version?: string | null;
    failure_reason?: string | null;
    [k: string]: unknown;
  };
  at: string;
}
