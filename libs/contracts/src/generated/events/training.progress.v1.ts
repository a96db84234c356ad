/* Generated from libs/contracts/schemas/events/training.progress.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * training.progress v1 — heartbeat of a running training job (trainer-worker)
 */
export interface TrainingProgressV1 {
  job_id: string;
  step: number;
  total_steps: number;
  /**
   * Mean training loss since the last heartbeat; null before the first step.
   */
  loss: number | null;
  tokens_per_second: number;
  eta_seconds: number;
  elapsed_seconds?: number;
  resumed_from_step?: number;
  /**
   * How many times the job message has been delivered.
   */
  delivery?: number;
}
