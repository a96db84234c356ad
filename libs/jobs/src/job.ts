import type { EntityManager } from 'typeorm';

/**
 * A job's states, the same as the worker's protocol (apps/trainer-worker jobs.py): queued until
 * the worker reports progress, then running; exactly one of completed / failed / expired ends it.
 * A later attempt is a new job (new id), never a state of the old one.
 */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const OPEN_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/** training, evaluation, …: an open set, one registration each (JobKind). */
export type JobKindName = string;

/** Why a job did not complete; `phase` is the worker's (or `deadline` for an expiry). */
export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
  phase?: string;
}

export type JobEndOutcome = 'completed' | 'failed' | 'failed_retryable' | 'expired';

/** A row of the `jobs` table. */
export interface Job<Request = JobRequestBase, Result = unknown> {
  id: string;
  kind: JobKindName;
  cycle_id: string | null;
  task_id: string | null;
  /** The record the job works for (an evaluation), when it is not the cycle itself. */
  parent_id: string | null;
  /** Which part of it (candidate / champion). */
  role: string | null;
  model_id: string;
  correlation_id: string | null;
  status: JobStatus;
  attempt: number;
  max_attempts: number;
  deadline: Date;
  request: Request | null;
  progress: unknown;
  result: Result | null;
  error: JobError | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** Every job request carries these (the worker keys its result marker by job_id). */
export interface JobRequestBase {
  job_id: string;
  attempt?: number;
  deadline?: string;
}

/** What the owner of a job (a cycle, an evaluation) does at the edges of the lifecycle. */
export interface JobKind<Request extends JobRequestBase = JobRequestBase> {
  readonly kind: JobKindName;
  /** The jobs.* subject the request goes out on (through the outbox). */
  readonly subject: string;
  /** The service that queues it (the envelope's source). */
  readonly source: string;
  readonly maxAttempts: number;
  /** How long one attempt may take from queueing to its result. */
  readonly deadlineMs: number;
  /** The code of an expiry, e.g. TRAINING_DEADLINE_EXCEEDED. */
  readonly deadlineCode: string;
  /**
   * The request of the next attempt from the previous one. The default replaces job_id, attempt
   * and deadline; a kind whose request names other per-job things (an output key) overrides it.
   */
  renew?(previous: Request, next: { jobId: string; attempt: number; deadline: string }): Request;
  /**
   * Locks what several jobs meet on (an evaluation both roles complete) before the job row is
   * locked, so every path takes its locks in the same order: owner, then job.
   */
  lockOwner?(m: EntityManager, job: Job<Request>): Promise<void>;
  /** Does the owner still wait for this job (cycle still training, evaluation still running)? */
  ownerWaiting(m: EntityManager, job: Job<Request>): Promise<boolean>;
  /** Counts an ended job in the kind's own series (labels a generic counter does not have). */
  countOutcome?(job: Job<Request>, outcome: JobEndOutcome): void;
  /** No attempt left (or a failure not worth retrying): the owner fails with this reason. */
  giveUp(m: EntityManager, job: Job<Request>, reason: { code: string; message: string }): Promise<void>;
}

export function defaultRenew<R extends JobRequestBase>(
  previous: R,
  next: { jobId: string; attempt: number; deadline: string },
): R {
  return { ...previous, job_id: next.jobId, attempt: next.attempt, deadline: next.deadline };
}
