/* Generated from libs/contracts/schemas/events/task.completed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * task.completed v1 — a task ended as its cycle ended (deployed, rejected, inconclusive or failed), with its result
 */
export interface TaskCompletedV1 {
  task_id: string;
  model_id: string;
  kind: 'training' | 'architecture' | 'optimisation' | 'distillation';
  status: 'deployed' | 'rejected' | 'inconclusive' | 'failed';
  priority: number;
  priority_summary: string;
  requested_by: string;
  automatic: boolean;
  reason: string;
  cycle_id: string | null;
  result: {
    performance_gain: number;
    measured_delta?: number | null;
    primary_metric?: string | null;
    metrics?: {
      [k: string]: unknown;
    } | null;
    execution_seconds: number;
    model_version?: string | null;
    failure_reason?: string | null;
    /**
     * Per target metric of the task (ADR 0027): the target, the candidate's value on the gate suite (null: not measured), met; all = every one met. null when the task set no target.
     */
    targets_met?: {
      all: boolean;
      metrics: {
        [k: string]: {
          target: number;
          value: number | null;
          met: boolean;
          [k: string]: unknown;
        };
      };
      [k: string]: unknown;
    } | null;
    /**
     * The constraints the gate judged the candidate by (model.evaluated's constraints); null when no evaluation ran.
     */
    constraints?: unknown[] | null;
    [k: string]: unknown;
  };
  at: string;
}
