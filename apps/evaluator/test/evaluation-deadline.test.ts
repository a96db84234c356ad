import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { STREAMS, SUBJECTS } from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { JobLifecycle, type Job } from '@genesis/jobs';
import { ARTIFACTS_BUCKET } from '@genesis/messaging';
import { readConfig } from '@genesis/config';
import { ServiceProcess, TestStack, waitFor } from '@genesis/testing';
import { evaluationJobKind, queueEvaluationJob, type EvaluationRow } from '../src/app/evaluation-jobs';
import { readEvaluatorConfig } from '../src/app/evaluator.config';

const MODEL = 'deadline-model';

/**
 * Evaluation jobs have a deadline now (ADR 0023): a real evaluator, with a 2 s
 * GENESIS_EVALUATION_DEADLINE and no worker to answer, expires each role's job, queues one more
 * attempt under a new job id, then fails the evaluation and its cycle with the phase and the
 * reason, as training does.
 */
describe('evaluator: an evaluation job past its deadline', () => {
  let stack: TestStack;
  let evaluator: ServiceProcess;
  let env: Record<string, string>;

  before(async () => {
    stack = await TestStack.start();
    env = stack.env({
      GENESIS_EVALUATION_DEADLINE: '2s',
      GENESIS_EVALUATION_SWEEP_INTERVAL_MS: '200',
      GENESIS_EVALUATION_MAX_ATTEMPTS: '2',
    });
    evaluator = await ServiceProcess.start('evaluator', env);
  });

  after(async () => {
    await evaluator?.stop();
    await stack?.dispose();
  });

  it('is retried once, then fails its cycle in `evaluating` with EVALUATION_DEADLINE_EXCEEDED', async () => {
    const config = readConfig(readEvaluatorConfig, env);
    const lifecycle = new JobLifecycle([evaluationJobKind(config)]);
    const version = `${MODEL}-${randomUUID().slice(0, 8)}`;
    const evaluation: EvaluationRow = {
      id: randomUUID(),
      cycle_id: '',
      model_id: MODEL,
      candidate_version: version,
      champion_version: null,
      base_model: 'tiny',
      suite: {
        bucket: ARTIFACTS_BUCKET,
        key: 'eval-suites/x.jsonl',
        sha256: '0'.repeat(64),
        items: 1,
        in_domain: 1,
        regression: 0,
      },
      status: 'running',
    };
    await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: MODEL,
        trigger: 'manual',
        reason: 'deadline test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      evaluation.cycle_id = opened.cycle.id;
      await m.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
        [version, MODEL],
      );
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, base_model, suite, status)
         VALUES ($1, $2, $3, $4, 'tiny', $5, 'running')`,
        [evaluation.id, evaluation.cycle_id, MODEL, version, JSON.stringify(evaluation.suite)],
      );
      for (const to of ['dataset_ready', 'training', 'trained', 'evaluating'] as const)
        await transitionCycle(
          m,
          evaluation.cycle_id,
          to,
          to === 'evaluating' ? { patch: { evaluation_id: evaluation.id } } : {},
        );
      const cause = { id: randomUUID(), correlation_id: evaluation.cycle_id };
      const model = { version: null, base_model: 'tiny', adapter: null };
      await queueEvaluationJob(lifecycle, m, config, evaluation, 'candidate', model, cause);
      await queueEvaluationJob(lifecycle, m, config, evaluation, 'champion', model, cause);
    });

    const cycle = await waitFor(
      'the cycle failed by the deadline',
      async () => {
        const [row] = await stack.db.query<{ status: string; failed_phase: string; failure_reason: string }>(
          `SELECT status, failed_phase, failure_reason FROM improvement_cycles WHERE id = $1`,
          [evaluation.cycle_id],
        );
        return row?.status === 'failed' ? row : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(async (err: Error) => {
      const jobs = await stack.db.query(`SELECT role, attempt, status, error FROM jobs`);
      throw new Error(
        `${err.message}\njobs: ${JSON.stringify(jobs)}\nevaluator: ${evaluator.logs.slice(-3000)}`,
      );
    });
    assert.equal(cycle.failed_phase, 'evaluating');
    assert.match(
      cycle.failure_reason,
      /^EVALUATION_DEADLINE_EXCEEDED: (candidate|champion): job \S+ passed its deadline .* after 2 attempt\(s\)$/,
    );

    // Both roles expired twice; the one that expired second found the evaluation failed already.
    await waitFor('every job ended', async () =>
      (await stack.db.query<Job>(`SELECT * FROM jobs WHERE parent_id = $1`, [evaluation.id])).every(
        (j) => j.status === 'expired',
      ),
    );
    const jobs = await stack.db.query<Job>(`SELECT * FROM jobs WHERE parent_id = $1 ORDER BY role, attempt`, [
      evaluation.id,
    ]);
    assert.deepEqual(
      jobs.map((j) => [j.role, j.attempt]),
      [
        ['candidate', 1],
        ['candidate', 2],
        ['champion', 1],
        ['champion', 2],
      ],
    );
    for (const j of jobs)
      assert.equal(j.request?.job_id, j.id, 'each attempt asks the worker under its own id');
    const [evaluationRow] = await stack.db.query<{ status: string; reason: string }>(
      `SELECT status, reason FROM evaluations WHERE id = $1`,
      [evaluation.id],
    );
    assert.equal(evaluationRow!.status, 'failed');
    assert.match(evaluationRow!.reason, /^EVALUATION_DEADLINE_EXCEEDED: /);

    // The retries went out on jobs.evaluate through the evaluator's outbox.
    await waitFor('the retries published', async () => {
      const info = await stack.client.jsm.streams.info(STREAMS.jobs, {
        subjects_filter: SUBJECTS.jobsEvaluate,
      });
      return (info.state.subjects?.[SUBJECTS.jobsEvaluate] ?? 0) >= 4;
    });
  });
});
