import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STREAMS,
  SUBJECTS,
  makeEnvelope,
  type JobsArchitectureV1,
  type ModelTrainedV1,
  type StudyTrialFinishedV1,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import { EventPublisher } from '@genesis/messaging';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
} from '@genesis/testing';

/**
 * An architecture study's trials as jobs (ADR 0025), the bridge against real NATS and Postgres, the
 * worker's answers (study.trial.finished) published by the test so every case is exact: the bridge
 * keeps `parallelism` trials in flight, queues the next as one finishes, never past the budget,
 * ignores a repeated answer, keeps the study's progress on its row, and registers the best complete
 * trial's adapter as the candidate once nothing is in flight; a study whose trials were all pruned
 * fails its cycle with a reason; a study whose cycle fails another way does not stay `running`.
 */

interface TrialJob {
  id: string;
  role: string;
  status: string;
  request: JobsArchitectureV1;
}

const learnings = Array.from({ length: 40 }, (_, i) => ({
  kind: 'correction',
  source: 'study-trials-test',
  language: 'python',
  context: `def total_${i}(a, b):`,
  model_output: `    return a - b`,
  correction: `    return a + b  # ${i}`,
}));

const HP = {
  lora_r: 16,
  lora_alpha: 32,
  lora_dropout: 0,
  target_modules: ['q_proj', 'v_proj'],
  learning_rate: 0.01,
  max_steps: 30,
  batch_size: 8,
  max_length: 256,
};

describe('architecture trials as jobs: fan-out, budget, progress, the best trial as candidate', () => {
  let stack: TestStack;
  let services: ServiceProcess[];
  const gateway = () => services[0]!;
  const bridge = () => services[2]!;

  const trialJobs = (cycleId: string) =>
    stack.db.query<TrialJob>(
      `SELECT id, role, status, request FROM jobs WHERE cycle_id = $1 AND kind = 'architecture' ORDER BY created_at, length(role), role`,
      [cycleId],
    );
  const openJobs = async (cycleId: string) =>
    (await trialJobs(cycleId)).filter((j) => j.status === 'queued' || j.status === 'running');
  const studyRow = async (cycleId: string) =>
    (
      await stack.db.query<{
        status: string;
        failure: string | null;
        best_trial: number | null;
        progress: Record<string, unknown> | null;
        summary: Record<string, unknown> | null;
      }>(
        `SELECT status, failure, best_trial, progress, summary FROM architecture_studies WHERE cycle_id = $1`,
        [cycleId],
      )
    )[0]!;
  const cycle = async (cycleId: string) =>
    (
      await stack.db.query<{ status: string; failure_reason: string | null }>(
        `SELECT status, failure_reason FROM improvement_cycles WHERE id = $1`,
        [cycleId],
      )
    )[0]!;
  const drained = () =>
    waitFor('the bridge to consume every trial answer', async () => {
      const info = await stack.client.jsm.consumers.info(
        STREAMS.events,
        'trainer-bridge-study-trial-finished',
      );
      return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
    });

  /** What a worker would answer for `job`: one trial, and the study as its storage holds it. */
  const answer = async (
    cycleId: string,
    job: TrialJob,
    trial: { number: number; state: 'complete' | 'pruned'; value: number; best?: boolean },
    spent: number,
  ) => {
    const data: StudyTrialFinishedV1 = {
      job_id: job.id,
      study: job.request.study.name,
      worker_id: `worker-${trial.number % 2}`,
      trial: {
        number: trial.number,
        state: trial.state,
        value: trial.value,
        params: { learning_rate: 0.01 * (trial.number + 1) },
        hyperparameters: { ...HP, learning_rate: 0.01 * (trial.number + 1) },
        intermediate: { '10': trial.value },
        pruned_at_step: trial.state === 'pruned' ? 10 : null,
        duration_seconds: 5,
        worker_id: `worker-${trial.number % 2}`,
      },
      base_model: 'tiny',
      seed: 1234,
      dataset_sha256: job.request.dataset.sha256,
      package_versions: { optuna: '5.0.0' },
      best: { number: trial.number, value: trial.value },
      budget: {
        trials: job.request.budget.trials,
        worker_seconds: job.request.budget.worker_seconds,
        spent_trials: spent,
        spent_worker_seconds: 5 * spent,
      },
      summary: {
        study_name: job.request.study.name,
        counts: { complete: spent },
        budget: {
          trials: job.request.budget.trials,
          worker_seconds: job.request.budget.worker_seconds,
          spent_trials: spent,
          spent_worker_seconds: 5 * spent,
        },
        trials: [],
      },
      ...(trial.best
        ? {
            artifact: {
              bucket: 'genesis-artifacts',
              key: `studies/${job.request.study.name}/trial-${trial.number}/abc/adapter_model.safetensors`,
              config_key: `studies/${job.request.study.name}/trial-${trial.number}/abc/adapter_config.json`,
              sha256: 'a'.repeat(64),
              size_bytes: 1000,
              format: 'peft-lora-safetensors',
            },
            trained: {
              metrics: {
                final_loss: trial.value,
                steps: 30,
                examples: 30,
                tokens: 3000,
                train_seconds: 5,
                tokens_per_second: 600,
              },
              hyperparameters: { ...HP, learning_rate: 0.01 * (trial.number + 1) },
              device: 'cpu',
            },
          }
        : {}),
    };
    const envelope = makeEnvelope(SUBJECTS.studyTrialFinished, data, {
      source: 'trainer-worker',
      modelId: 'genesis',
      cycleId,
      causationId: job.id,
    });
    await new EventPublisher(stack.client).publish(SUBJECTS.studyTrialFinished, envelope);
    await drained();
    return envelope;
  };

  const startStudy = async (budget: Record<string, number>) => {
    const res = await request<Record<string, string>>(gateway().baseUrl, '/api/v1/models/genesis/studies', {
      method: 'POST',
      json: { budget },
      key: TEST_ADMIN_KEY,
    });
    assert.equal(res.status, 202, res.text);
    return res.body['cycle_id']!;
  };
  const endCycle = async (cycleId: string) =>
    stack.db.dataSource.transaction((m) =>
      transitionCycle(m, cycleId, 'failed', { failure: { code: 'TEST_ENDED', message: 'next case' } }),
    );

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({
      GENESIS_LEARNING_THRESHOLD: '100000',
      GENESIS_FAILED_CYCLE_COOLDOWN_MINUTES: '0',
      GENESIS_STUDY_PARALLELISM: '3', // the request's budget.parallelism wins
    });
    services = await Promise.all(
      ['gateway', 'learner', 'trainer-bridge', 'monitor'].map((app) => ServiceProcess.start(app, env)),
    );
    const res = await request(gateway().baseUrl, '/api/v1/learnings/batch', {
      json: { learnings },
      key: TEST_WRITER_KEY,
    });
    assert.equal(res.status, 202, res.text);
    await waitFor('the learnings to be stored', async () => {
      const [row] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM learnings WHERE status = 'accepted'`,
      );
      return row!.n === learnings.length ? true : undefined;
    });
  });

  after(async () => {
    await Promise.all((services ?? []).map((s) => s.stop()));
    await stack?.dispose();
  });

  it('keeps two trials in flight, queues no trial past the budget, and the best complete trial becomes the candidate', async () => {
    const cycleId = await startStudy({ trials: 3, parallelism: 2 });
    const first = await waitFor('the first two trial jobs', async () => {
      const jobs = await trialJobs(cycleId);
      return jobs.length >= 2 ? jobs : undefined;
    });
    assert.deepEqual(
      first.map((j) => j.role),
      ['trial-1', 'trial-2'],
    );
    assert.equal((await studyRow(cycleId)).status, 'running');

    // trial 0 completes (the best so far, its adapter stored): the third trial job is queued
    const a0 = await answer(cycleId, first[0]!, { number: 0, state: 'complete', value: 2.0, best: true }, 1);
    let jobs = await trialJobs(cycleId);
    assert.deepEqual(
      jobs.map((j) => [j.role, j.status]),
      [
        ['trial-1', 'completed'],
        ['trial-2', 'queued'],
        ['trial-3', 'queued'],
      ],
    );
    // the same answer again (a redelivery) changes nothing
    await new EventPublisher(stack.client).publish(SUBJECTS.studyTrialFinished, a0);
    await drained();
    assert.equal((await trialJobs(cycleId)).length, 3);

    // trial 1 is pruned: 2 finished + 1 in flight = the budget of 3, so nothing more is queued
    await answer(cycleId, first[1]!, { number: 1, state: 'pruned', value: 5.0 }, 2);
    jobs = await trialJobs(cycleId);
    assert.equal(jobs.length, 3, 'no trial past the budget');
    let progress = (await studyRow(cycleId)).progress!;
    assert.deepEqual(
      [
        progress['trials_finished'],
        progress['trials_pruned'],
        progress['trials_running'],
        progress['best_trial'],
      ],
      [2, 1, 1, 0],
    );
    assert.equal((await cycle(cycleId)).status, 'training', 'a trial is still in flight');

    // the last trial completes, better: the budget is spent and nothing is in flight → candidate
    await answer(cycleId, jobs[2]!, { number: 2, state: 'complete', value: 0.5, best: true }, 3);
    const trained = await waitFor('the cycle trained', async () => {
      const c = await cycle(cycleId);
      return c.status === 'trained' ? c : undefined;
    });
    assert.equal(trained.status, 'trained');
    const { event } = await stack.lastEvent<ModelTrainedV1>(
      SUBJECTS.modelTrained,
      (e) => e.cycle_id === cycleId,
    );
    assert.deepEqual(event.data.study, { name: first[0]!.request.study.name, best_trial: 2 });
    assert.equal(event.data.job_id, jobs[2]!.id);
    assert.equal(event.data.hyperparameters.learning_rate, 0.03);
    const study = await studyRow(cycleId);
    assert.equal(study.status, 'completed');
    assert.equal(study.best_trial, 2);
    progress = study.progress!;
    assert.deepEqual(
      [
        progress['trials_finished'],
        progress['trials_complete'],
        progress['trials_running'],
        progress['stopped_by'],
      ],
      [3, 2, 0, 'trials'],
    );
    assert.equal(progress['parallelism'], 2);

    // the API shows the progress; the bridge's metrics count the trials
    const view = await request<{ progress: Record<string, unknown> }>(
      gateway().baseUrl,
      `/api/v1/models/genesis/studies/${first[0]!.request.study.name}`,
      { key: TEST_ADMIN_KEY },
    );
    assert.equal(view.status, 200, view.text);
    assert.equal(view.body['progress']['trials_finished'], 3);
    const metrics = await (await fetch(`${bridge().baseUrl}/metrics`)).text();
    // a series' value, whatever the order of its labels
    const value = (name: string, labels: Record<string, string>) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`))
        .find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        ?.split(' ')
        .pop();
    const genesis = { model_id: 'genesis' };
    assert.equal(value('genesis_study_trials_total', { ...genesis, state: 'complete' }), '2', metrics);
    assert.equal(value('genesis_study_trials_total', { ...genesis, state: 'pruned' }), '1');
    assert.equal(value('genesis_study_trials_total', { ...genesis, state: 'failed' }), '0', 'born at 0');
    assert.equal(value('genesis_study_best_value', genesis), '0.5');
    assert.equal(value('genesis_study_trials_running', genesis), '0');
    await endCycle(cycleId);
  });

  it('a study whose every trial was pruned fails its cycle with the reason', async () => {
    const cycleId = await startStudy({ trials: 2, parallelism: 2 });
    const jobs = await waitFor('two trial jobs', async () => {
      const j = await trialJobs(cycleId);
      return j.length >= 2 ? j : undefined;
    });
    await answer(cycleId, jobs[0]!, { number: 0, state: 'pruned', value: 3 }, 1);
    await answer(cycleId, jobs[1]!, { number: 1, state: 'pruned', value: 4 }, 2);
    const failed = await waitFor('the cycle failed', async () => {
      const c = await cycle(cycleId);
      return c.status === 'failed' ? c : undefined;
    });
    assert.match(failed.failure_reason ?? '', /^NO_COMPLETE_TRIAL: .*without a complete trial/);
    const study = await studyRow(cycleId);
    assert.equal(study.status, 'failed');
    assert.match(study.failure ?? '', /NO_COMPLETE_TRIAL/);
    assert.equal((await openJobs(cycleId)).length, 0);
  });

  it('a study does not stay running when its cycle fails another way', async () => {
    const cycleId = await startStudy({ trials: 4 });
    const jobs = await waitFor('the trial jobs (the deployment default parallelism, 3)', async () => {
      const j = await trialJobs(cycleId);
      return j.length >= 3 ? j : undefined;
    });
    assert.equal(jobs.length, 3);
    assert.equal((await studyRow(cycleId)).status, 'running');
    // e.g. the monitor's phase deadline, or a cancelled task: not the bridge's path
    await stack.db.dataSource.transaction((m) =>
      transitionCycle(m, cycleId, 'failed', {
        failure: { code: 'PHASE_DEADLINE_EXCEEDED', message: 'training for too long' },
      }),
    );
    const study = await studyRow(cycleId);
    assert.equal(study.status, 'failed');
    assert.equal(study.failure, 'cycle failed: PHASE_DEADLINE_EXCEEDED: training for too long');
    // a late answer of a trial in flight is recorded, and nothing more is queued
    await answer(cycleId, jobs[0]!, { number: 0, state: 'complete', value: 1, best: true }, 1);
    assert.equal((await trialJobs(cycleId)).length, 3);
    assert.equal((await studyRow(cycleId)).status, 'failed');
  });
});
