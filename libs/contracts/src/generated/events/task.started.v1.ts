/* Generated from libs/contracts/schemas/events/task.started.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * task.started v1 — the scheduler started a task: its cycle is opened
 */
export interface TaskStartedV1 {
  task_id: string;
  model_id: string;
  kind: 'training' | 'architecture' | 'optimisation' | 'distillation';
  status: 'running';
  priority: number;
  priority_summary: string;
  requested_by: string;
  automatic: boolean;
  reason: string;
  cycle_id: string;
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
