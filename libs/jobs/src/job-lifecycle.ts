import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { makeEnvelope } from '@genesis/contracts';
import { counter } from '@genesis/observability';
import { enqueueEvent } from '@genesis/persistence';
import {
  defaultRenew,
  type Job,
  type JobEndOutcome,
  type JobError,
  type JobKind,
  type JobRequestBase,
} from './job';
import { decideRetry, type RetryDecision } from './retry-policy';

const jobsTotal = counter('genesis_jobs_total', 'Worker jobs by kind and outcome', ['kind', 'outcome']);

export interface QueueJobInput<Request extends JobRequestBase> {
  modelId: string;
  cycleId?: string | null;
  taskId?: string | null;
  parentId?: string | null;
  role?: string | null;
  /** 1 for a first attempt; retries are numbered by the lifecycle. */
  attempt?: number;
  /** The event that caused the job (its correlation and causation). */
  cause: { id: string; correlation_id: string };
  /** The job message; job_id, attempt and the ISO deadline are the lifecycle's. */
  request: (job: { jobId: string; attempt: number; deadline: string }) => Request;
  now?: Date;
}

function describeMs(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/** What a failure or an expiry led to; `ignored` when the job was unknown or already ended. */
export type JobOutcome =
  | { outcome: 'ignored' }
  | { outcome: 'retried'; job: Job; next: string; decision: RetryDecision }
  | { outcome: 'gave_up'; job: Job; decision: RetryDecision }
  | { outcome: 'recorded'; job: Job; decision: RetryDecision };

/**
 * One queue / progress / result / retry / deadline path for every kind of worker job (ADR 0023),
 * the twin of the worker's JobHandler protocol: one result per job (a second one is ignored), a
 * retryable failure or an expiry queues a new attempt under a new job id while attempts remain,
 * anything else fails the owner with the job's reason. Each kind is one JobKind registration.
 * Every method that changes a job runs in the caller's transaction and locks the job row.
 */
export class JobLifecycle {
  private readonly kinds = new Map<string, JobKind<JobRequestBase>>();

  constructor(kinds: readonly JobKind<JobRequestBase>[] = []) {
    for (const kind of kinds) this.register(kind);
  }

  register<R extends JobRequestBase>(kind: JobKind<R>): this {
    if (this.kinds.has(kind.kind)) throw new Error(`job kind ${kind.kind} is registered twice`);
    this.kinds.set(kind.kind, kind as JobKind<JobRequestBase>);
    // Every label set from 0: a counter that appears with its first event hides it from increase().
    for (const outcome of ['queued', 'completed', 'failed', 'failed_retryable', 'expired'])
      jobsTotal.inc({ kind: kind.kind, outcome }, 0);
    return this;
  }

  get kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  private kindOf(name: string): JobKind<JobRequestBase> {
    const kind = this.kinds.get(name);
    if (!kind)
      throw new Error(`job kind ${name} is not registered here (known: ${this.kindNames.join(', ')})`);
    return kind;
  }

  /** A job row and its jobs.* message (outbox), in the caller's transaction. Returns the job id. */
  async queue<R extends JobRequestBase>(
    m: EntityManager,
    kindName: string,
    input: QueueJobInput<R>,
  ): Promise<string> {
    const kind = this.kindOf(kindName);
    const now = input.now ?? new Date();
    const attempt = input.attempt ?? 1;
    const id = randomUUID();
    const deadline = new Date(now.getTime() + kind.deadlineMs);
    const request = input.request({ jobId: id, attempt, deadline: deadline.toISOString() });
    await this.insert(m, kind, {
      id,
      modelId: input.modelId,
      cycleId: input.cycleId ?? null,
      taskId: input.taskId ?? null,
      parentId: input.parentId ?? null,
      role: input.role ?? null,
      correlationId: input.cause.correlation_id,
      attempt,
      deadline,
      request,
      causationId: input.cause.id,
      now,
    });
    return id;
  }

  private async insert(
    m: EntityManager,
    kind: JobKind<JobRequestBase>,
    j: {
      id: string;
      modelId: string;
      cycleId: string | null;
      taskId: string | null;
      parentId: string | null;
      role: string | null;
      correlationId: string | null;
      causationId: string;
      attempt: number;
      deadline: Date;
      request: JobRequestBase;
      now: Date;
    },
  ): Promise<void> {
    await m.query(
      `INSERT INTO jobs (id, kind, cycle_id, task_id, parent_id, role, model_id, correlation_id, status, attempt,
         max_attempts, deadline, request, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $12, $13, $13)`,
      [
        j.id,
        kind.kind,
        j.cycleId,
        j.taskId,
        j.parentId,
        j.role,
        j.modelId,
        j.correlationId,
        j.attempt,
        kind.maxAttempts,
        j.deadline,
        JSON.stringify(j.request),
        j.now,
      ],
    );
    await enqueueEvent(
      m,
      kind.subject,
      makeEnvelope(kind.subject, j.request, {
        source: kind.source,
        modelId: j.modelId,
        ...(j.cycleId ? { cycleId: j.cycleId } : {}),
        ...(j.correlationId ? { correlationId: j.correlationId } : {}),
        causationId: j.causationId,
        time: j.now,
      }),
    );
    jobsTotal.inc({ kind: kind.kind, outcome: 'queued' });
  }

  private count(job: Job, outcome: JobEndOutcome): void {
    jobsTotal.inc({ kind: job.kind, outcome });
    this.kindOf(job.kind).countOutcome?.(job, outcome);
  }

  async get(db: DataSource | EntityManager, jobId: string): Promise<Job | undefined> {
    const [job] = await db.query(`SELECT * FROM jobs WHERE id = $1`, [jobId]);
    return job as Job | undefined;
  }

  /**
   * Locks a job of a kind registered here: its owner first (JobKind.lockOwner), then the row.
   * Undefined for an unknown job or one of another kind (another service's business).
   */
  async lock(m: EntityManager, jobId: string): Promise<Job | undefined> {
    const peek = await this.get(m, jobId);
    if (!peek || !this.kinds.has(peek.kind)) return undefined;
    await this.kindOf(peek.kind).lockOwner?.(m, peek);
    const [job] = await m.query(`SELECT * FROM jobs WHERE id = $1 FOR UPDATE`, [jobId]);
    return job as Job;
  }

  /** The worker's progress report: queued → running; an older report never overwrites a newer one. */
  async progress(
    db: DataSource | EntityManager,
    jobId: string,
    progress: Record<string, unknown>,
    step: number,
  ): Promise<Job | undefined> {
    const [job] = await db.query(
      `UPDATE jobs SET status = 'running', progress = $2, updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running')
         AND (progress IS NULL OR coalesce((progress->>'step')::int, 0) <= $3)
       RETURNING *`,
      [jobId, JSON.stringify(progress), step],
    );
    return job as Job | undefined;
  }

  /**
   * Records a job's result. Returns the locked job, or undefined when the job is unknown, already
   * has a result or failed: a second result of a job is ignored by design (the worker's result
   * marker makes every redelivery repeat the same one). A late result of an expired job is still
   * recorded: the owner decides from its own state whether it can use it.
   */
  async complete(m: EntityManager, jobId: string, result: unknown): Promise<Job | undefined> {
    const job = await this.lock(m, jobId);
    if (!job || !['queued', 'running', 'expired'].includes(job.status)) return undefined;
    await m.query(
      `UPDATE jobs SET status = 'completed', result = $2, updated_at = now(), finished_at = now() WHERE id = $1`,
      [jobId, JSON.stringify(result)],
    );
    this.count(job, 'completed');
    return { ...job, status: 'completed', result };
  }

  /** The worker's failure of a job: recorded once, then retried or the owner fails. */
  async fail(
    m: EntityManager,
    jobId: string,
    error: JobError,
    cause?: { id: string; correlation_id: string },
  ): Promise<JobOutcome> {
    const job = await this.lock(m, jobId);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return { outcome: 'ignored' };
    return this.end(m, job, 'failed', error, cause);
  }

  /** A job past its deadline: a retryable failure with the kind's deadline code. */
  async expire(m: EntityManager, jobId: string, now = new Date()): Promise<JobOutcome> {
    const job = await this.lock(m, jobId);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return { outcome: 'ignored' };
    if (new Date(job.deadline).getTime() > now.getTime()) return { outcome: 'ignored' };
    const kind = this.kindOf(job.kind);
    const error: JobError = {
      code: kind.deadlineCode,
      message: `job ${job.id} passed its deadline ${new Date(job.deadline).toISOString()} (${describeMs(kind.deadlineMs)})`,
      retryable: true,
      phase: 'deadline',
    };
    return this.end(m, job, 'expired', error);
  }

  /** Open jobs of the kinds registered here whose deadline has passed. */
  async overdue(db: DataSource | EntityManager, now = new Date()): Promise<string[]> {
    const rows: { id: string }[] = await db.query(
      `SELECT id FROM jobs WHERE kind = ANY($1) AND status IN ('queued', 'running') AND deadline < $2
       ORDER BY deadline`,
      [this.kindNames, now],
    );
    return rows.map((r) => r.id);
  }

  private async end(
    m: EntityManager,
    job: Job,
    status: 'failed' | 'expired',
    error: JobError,
    cause?: { id: string; correlation_id: string },
  ): Promise<JobOutcome> {
    const kind = this.kindOf(job.kind);
    await m.query(
      `UPDATE jobs SET status = $2, error = $3, updated_at = now(), finished_at = now() WHERE id = $1`,
      [job.id, status, JSON.stringify(error)],
    );
    this.count(job, status === 'expired' ? 'expired' : error.retryable ? 'failed_retryable' : 'failed');
    const ended: Job = { ...job, status, error };
    let decision = decideRetry(job, error, await kind.ownerWaiting(m, ended));
    if (decision.action === 'retry' && !job.request)
      // A job migrated from before ADR 0023 has no stored request to send again.
      decision = decideRetry(job, { ...error, retryable: false }, true);
    if (decision.action === 'record_only') return { outcome: 'recorded', job: ended, decision };
    if (decision.action === 'give_up') {
      await kind.giveUp(m, ended, { code: decision.code, message: decision.message });
      return { outcome: 'gave_up', job: ended, decision };
    }
    const now = new Date();
    const id = randomUUID();
    const deadline = new Date(now.getTime() + kind.deadlineMs);
    const renew = kind.renew ?? defaultRenew;
    await this.insert(m, kind, {
      id,
      modelId: job.model_id,
      cycleId: job.cycle_id,
      taskId: job.task_id,
      parentId: job.parent_id,
      role: job.role,
      correlationId: cause?.correlation_id ?? job.correlation_id,
      causationId: cause?.id ?? job.id,
      attempt: decision.attempt,
      deadline,
      request: renew(job.request!, {
        jobId: id,
        attempt: decision.attempt,
        deadline: deadline.toISOString(),
      }),
      now,
    });
    return { outcome: 'retried', job: ended, next: id, decision };
  }
}
