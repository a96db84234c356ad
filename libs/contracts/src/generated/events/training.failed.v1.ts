/* Generated from libs/contracts/schemas/events/training.failed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * training.failed v1 — a training job ended without an adapter (trainer-worker)
 *
 * retryable=false: the same job can never succeed (e.g. an invalid snapshot); the job message is acked, not redelivered. At most one result (completed or failed) per job_id.
 */
export interface TrainingFailedV1 {
  job_id: string;
  reason: {
    code: string;
    message: string;
  };
  retryable: boolean;
  phase?: 'validate' | 'download' | 'prepare' | 'train' | 'upload' | 'publish';
  delivery?: number;
}
