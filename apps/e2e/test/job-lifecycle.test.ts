import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Log } from '@genesis/observability';
import { TestDatabase } from '@genesis/testing';
import { JobDeadlineSweeper, JobLifecycle, type Job, type JobKind } from '@genesis/jobs';

interface ProbeRequest {
  job_id: string;
  attempt?: number;
  deadline?: string;
  payload: string;
}

/**
 * The one job lifecycle against a real, migrated Postgres: a kind registered with a few lines,
 * bounded retries under new job ids, one result per job, and expiry past the deadline. The owner
 * is a row of a scratch table standing in for a cycle or an evaluation.
 */
describe('JobLifecycle (real Postgres)', () => {
  let db: TestDatabase;
  const gaveUp: { job: string; code: string; message: string }[] = [];
  let lifecycle: JobLifecycle;
  let modelId: string;

  const probe: JobKind<ProbeRequest> = {
    kind: 'probe',
    subject: 'jobs.probe',
    source: 'test',
    maxAttempts: 3,
    deadlineMs: 60_000,
    deadlineCode: 'PROBE_DEADLINE_EXCEEDED',
    async ownerWaiting(m, job) {
      const [owner] = await m.query(`SELECT waiting FROM probe_owners WHERE id = $1`, [job.parent_id]);
      return owner?.waiting === true;
    },
    async giveUp(m, job, reason) {
      await m.query(`UPDATE probe_owners SET waiting = false, failure = $2 WHERE id = $1`, [
        job.parent_id,
        `${reason.code}: ${reason.message}`,
      ]);
      gaveUp.push({ job: job.id, ...reason });
    },
  };

  before(async () => {
    db = await TestDatabase.create();
    await db.query(`CREATE TABLE probe_owners (id uuid PRIMARY KEY, waiting boolean NOT NULL, failure text)`);
    lifecycle = new JobLifecycle([probe]);
    modelId = `jobs-${randomUUID().slice(0, 8)}`;
  });

  after(async () => {
    await db?.dispose();
  });

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => db.dataSource.transaction(work);

  async function queueProbe(now = new Date()) {
    const owner = randomUUID();
    await db.query(`INSERT INTO probe_owners (id, waiting) VALUES ($1, true)`, [owner]);
    const jobId = await tx((m) =>
      lifecycle.queue<ProbeRequest>(m, 'probe', {
        modelId,
        parentId: owner,
        cause: { id: randomUUID(), correlation_id: randomUUID() },
        request: ({ jobId, attempt, deadline }) => ({ job_id: jobId, attempt, deadline, payload: 'x' }),
        now,
      }),
    );
    return { owner, jobId };
  }

  const jobsOf = (owner: string) =>
    db.query<Job<ProbeRequest>>(`SELECT * FROM jobs WHERE parent_id = $1 ORDER BY attempt`, [owner]);

  it('queues a job row and its message through the outbox, with the request as sent', async () => {
    const { owner, jobId } = await queueProbe();
    const [job] = await jobsOf(owner);
    assert.equal(job!.id, jobId);
    assert.equal(job!.status, 'queued');
    assert.equal(job!.max_attempts, 3);
    assert.equal(job!.request!.job_id, jobId);
    const [outbox] = await db.query<{ subject: string; payload: string }>(
      `SELECT subject, payload FROM outbox WHERE payload::jsonb->'data'->>'job_id' = $1`,
      [jobId],
    );
    assert.equal(outbox!.subject, 'jobs.probe');
    assert.equal(JSON.parse(outbox!.payload).data.deadline, job!.request!.deadline);
  });

  it('retries a retryable failure under a new job id, at most max_attempts times, then fails the owner', async () => {
    const { owner } = await queueProbe();
    const error = { code: 'CUDA_OOM', message: 'out of memory', retryable: true };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const open = (await jobsOf(owner)).find((j) => j.status === 'queued')!;
      assert.equal(open.attempt, attempt);
      const outcome = await tx((m) => lifecycle.fail(m, open.id, error));
      assert.equal(outcome.outcome, attempt < 3 ? 'retried' : 'gave_up');
      // The same failure redelivered changes nothing.
      assert.equal((await tx((m) => lifecycle.fail(m, open.id, error))).outcome, 'ignored');
    }
    const jobs = await jobsOf(owner);
    assert.deepEqual(
      jobs.map((j) => [j.attempt, j.status]),
      [
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
      ],
    );
    assert.equal(new Set(jobs.map((j) => j.id)).size, 3, 'every attempt is a new job id');
    assert.equal(jobs[1]!.request!.attempt, 2);
    assert.notEqual(jobs[1]!.request!.job_id, jobs[0]!.request!.job_id);
    const [o] = await db.query<{ failure: string }>(`SELECT failure FROM probe_owners WHERE id = $1`, [
      owner,
    ]);
    assert.equal(o!.failure, 'CUDA_OOM: out of memory after 3 attempt(s)');
  });

  it('records one result per job: a second result, or a failure after it, is ignored', async () => {
    const { owner, jobId } = await queueProbe();
    const first = await tx((m) => lifecycle.complete(m, jobId, { n: 1 }));
    assert.equal(first?.status, 'completed');
    assert.equal(await tx((m) => lifecycle.complete(m, jobId, { n: 2 })), undefined);
    const late = await tx((m) => lifecycle.fail(m, jobId, { code: 'X', message: 'late', retryable: true }));
    assert.equal(late.outcome, 'ignored');
    const [job] = await jobsOf(owner);
    assert.deepEqual(job!.result, { n: 1 });
    assert.equal(job!.status, 'completed');
    assert.equal((await jobsOf(owner)).length, 1);
  });

  it('expires a job past its deadline as a retryable failure, and fails the owner when none is left', async () => {
    const past = new Date(Date.now() - 10 * 60_000);
    const { owner, jobId } = await queueProbe(past);
    await db.query(`UPDATE jobs SET max_attempts = 1 WHERE id = $1`, [jobId]);
    const sweeper = new JobDeadlineSweeper(db.dataSource, lifecycle, 60_000, new Log('test'));
    const outcomes = await sweeper.sweep();
    const mine = outcomes.find((o) => o.outcome !== 'ignored' && o.job.id === jobId);
    assert.equal(mine?.outcome, 'gave_up');
    const [job] = await jobsOf(owner);
    assert.equal(job!.status, 'expired');
    assert.equal(job!.error!.code, 'PROBE_DEADLINE_EXCEEDED');
    assert.equal(job!.error!.phase, 'deadline');
    const [o] = await db.query<{ failure: string }>(`SELECT failure FROM probe_owners WHERE id = $1`, [
      owner,
    ]);
    assert.match(o!.failure, /^PROBE_DEADLINE_EXCEEDED: job .* passed its deadline .* after 1 attempt\(s\)$/);
    // A second sweep finds nothing more to do.
    assert.ok((await sweeper.sweep()).every((x) => x.outcome === 'ignored' || x.job.id !== jobId));
  });

  it('keeps a failure whose owner moved on without retrying', async () => {
    const { owner, jobId } = await queueProbe();
    await db.query(`UPDATE probe_owners SET waiting = false WHERE id = $1`, [owner]);
    const outcome = await tx((m) => lifecycle.fail(m, jobId, { code: 'OOM', message: 'x', retryable: true }));
    assert.equal(outcome.outcome, 'recorded');
    assert.equal((await jobsOf(owner)).length, 1);
  });

  it('refuses a kind registered twice and a kind it does not know', async () => {
    assert.throws(() => new JobLifecycle([probe, probe]), /registered twice/);
    await assert.rejects(
      tx((m) =>
        lifecycle.queue(m, 'unknown', {
          modelId,
          cause: { id: randomUUID(), correlation_id: randomUUID() },
          request: ({ jobId }) => ({ job_id: jobId }),
        }),
      ),
      /job kind unknown is not registered/,
    );
  });

  it('migrated the model_versions.job_id reference onto jobs', async () => {
    const [fk] = await db.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'model_versions_job_id_fkey'`,
    );
    assert.match(fk!.def, /REFERENCES jobs\(id\)/);
  });

  it('the migration moves training_jobs and evaluation_jobs rows into jobs, history kept', async () => {
    const migration = db.dataSource.migrations.find((x) => x.name === 'OneJobTable1764440000000')!;
    const runner = db.dataSource.createQueryRunner();
    try {
      await runner.query(`DELETE FROM jobs`);
      await migration.down(runner);
      const cycle = randomUUID();
      const evaluation = randomUUID();
      const [training, evalJob] = [randomUUID(), randomUUID()];
      await runner.query(
        `INSERT INTO improvement_cycles (id, model_id, status, trigger, reason, opened_at, phase_entered_at)
         VALUES ($1, $2, 'opened', 'manual', 'migration test', now(), now())`,
        [cycle, modelId],
      );
      await runner.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
        [`${modelId}-v1`, modelId],
      );
      await runner.query(
        `INSERT INTO training_jobs (job_id, cycle_id, attempt, status, result, failure, deadline)
         VALUES ($1, $2, 2, 'failed', NULL, 'CUDA_OOM: out of memory', now())`,
        [training, cycle],
      );
      await runner.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, base_model, suite, status)
         VALUES ($1, $2, $3, $4, 'tiny', '{}', 'running')`,
        [evaluation, cycle, modelId, `${modelId}-v1`],
      );
      await runner.query(
        `INSERT INTO evaluation_jobs (job_id, evaluation_id, role, attempt, status, metrics, results)
         VALUES ($1, $2, 'champion', 1, 'completed', '{"accuracy": 0.5}', '{"key": "k"}')`,
        [evalJob, evaluation],
      );
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const rows = await db.query<Job & { metrics: unknown }>(
      `SELECT *, result->'metrics' AS metrics FROM jobs WHERE model_id = $1 ORDER BY kind DESC`,
      [modelId],
    );
    assert.deepEqual(
      rows.map((r) => [r.kind, r.attempt, r.status, r.role]),
      [
        ['training', 2, 'failed', null],
        ['evaluation', 1, 'completed', 'champion'],
      ],
    );
    assert.deepEqual(rows[0]!.error, { code: 'CUDA_OOM', message: 'out of memory' });
    assert.deepEqual(rows[1]!.metrics, { accuracy: 0.5 });
    assert.ok(rows[1]!.deadline, 'a migrated evaluation job has a deadline too');
  });
});
