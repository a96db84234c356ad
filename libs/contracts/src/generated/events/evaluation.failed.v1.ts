/* Generated from libs/contracts/schemas/events/evaluation.failed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * evaluation.failed v1 — an evaluation job ended without results (trainer-worker)
 *
 * retryable=false: the same job can never succeed (e.g. an invalid suite); the job message is acked, not redelivered. At most one result (completed or failed) per job_id.
 */
export interface EvaluationFailedV1 {
  job_id: string;
  evaluation_id?: string;
  role?: 'candidate' | 'champion';
  reason: {
    code: string;
    message: string;
  };
  retryable: boolean;
  phase?: 'validate' | 'download' | 'load' | 'evaluate' | 'upload' | 'publish';
  delivery?: number;
}
