/* Generated from libs/contracts/schemas/events/cycle.failed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * cycle.failed v1 — an improvement cycle ended in failure, in a phase, for a reason
 */
export interface CycleFailedV1 {
  cycle_id: string;
  model_id: string;
  /**
   * The state the cycle was in when it failed.
   */
  phase: 'opened' | 'dataset_ready' | 'training' | 'trained' | 'evaluating' | 'evaluated' | 'deploying';
  reason: {
    code: string;
    message: string;
  };
  failed_at: string;
}
