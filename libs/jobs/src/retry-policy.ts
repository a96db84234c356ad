import type { JobError } from './job';

export type RetryDecision =
  | { action: 'retry'; attempt: number; reason: string }
  | { action: 'give_up'; code: string; message: string; reason: string }
  | { action: 'record_only'; reason: string };

/**
 * What a failed (or expired) attempt leads to: another attempt while the failure is retryable and
 * attempts remain, else the owner fails with the job's reason (and, for a retryable one, how many
 * attempts it took). An owner that no longer waits (the cycle moved on) only gets the record.
 */
export function decideRetry(
  job: { attempt: number; max_attempts: number; role?: string | null },
  error: JobError,
  ownerWaiting: boolean,
): RetryDecision {
  if (!ownerWaiting) return { action: 'record_only', reason: 'its owner no longer waits for it' };
  if (error.retryable && job.attempt < job.max_attempts)
    return {
      action: 'retry',
      attempt: job.attempt + 1,
      reason: `${error.code} is retryable; attempt ${job.attempt + 1} of ${job.max_attempts}`,
    };
  const attempts = error.retryable ? ` after ${job.attempt} attempt(s)` : '';
  const who = job.role ? `${job.role}: ` : '';
  return {
    action: 'give_up',
    code: error.code,
    message: `${who}${error.message}${attempts}`,
    reason: error.retryable ? `no attempt left (${job.max_attempts})` : `${error.code} is not retryable`,
  };
}
