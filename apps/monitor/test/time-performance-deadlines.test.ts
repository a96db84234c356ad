import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { STREAMS, SUBJECTS } from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  sleep,
  waitFor,
} from '@genesis/testing';
import { cyclesOf, finishCycle, runMonitorOnce, storeLearnings, thresholdEvents } from './helpers';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The time and performance triggers (with the injectable clock GENESIS_CLOCK_OFFSET_MS and
 * feedback recorded through the gateway), stuck-cycle deadlines, and the one-shot mode.
 */
describe('monitor: time and performance triggers, deadlines, --once', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let monitor: ServiceProcess;

  const once = (model: string, extra: Record<string, string> = {}) =>
    runMonitorOnce(stack.env({ GENESIS_MONITOR_MODELS: model, ...extra }));
  const lineFor = (stdout: string, model: string) =>
    stdout.split('\n').find((l) => l.startsWith(`${model}: `)) ?? '';

  /** A champion deployed `daysAgo` days ago with an offline score, as the deployer would leave it. */
  async function deployChampion(model: string, version: string, score: number, daysAgo = 0): Promise<string> {
    const at = new Date(Date.now() - daysAgo * DAY_MS);
    const opened = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: model, trigger: 'manual', reason: 'seed', counts: {}, now: at }),
    );
    assert.ok(opened.opened);
    await finishCycle(stack, opened.cycle.id, 'deployed', { modelVersion: version, score, at });
    return opened.cycle.id;
  }

  const feedback = (body: Record<string, unknown>) =>
    request<Record<string, unknown>>(gateway.baseUrl, '/api/v1/feedback', {
      json: body,
      key: TEST_WRITER_KEY,
    });

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({ GENESIS_FEEDBACK_MIN_SAMPLES: '20', GENESIS_FEEDBACK_WINDOW: '40' });
    [gateway, monitor] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('monitor', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), monitor?.stop()]);
    await stack?.dispose();
  });

  it('time trigger: 62 days after the last training, with at least one new learning', async () => {
    const model = 'time-model';
    await deployChampion(model, 'time-v1', 0.95);
    const idle = await once(model, { GENESIS_CLOCK_OFFSET_MS: String(70 * DAY_MS) });
    assert.equal(idle.code, 0, idle.stderr);
    assert.equal(
      lineFor(idle.stdout, model),
      `${model}: NOT_MET: Thresholds not met (learnings: 0/100, days: 70/62 with no new learning, accuracy: 0.950/0.9 offline)`,
    );

    // 20: the new evidence an automatic cycle needs by default (ADR 0014).
    await storeLearnings(stack, model, 20, { publish: false });
    const early = await once(model, { GENESIS_CLOCK_OFFSET_MS: String(61 * DAY_MS) });
    assert.match(
      lineFor(early.stdout, model),
      /NOT_MET: Thresholds not met \(learnings: 20\/100, days: 61\/62, /,
    );
    assert.equal((await cyclesOf(stack, model)).filter((c) => c.status === 'opened').length, 0);

    const due = await once(model, { GENESIS_CLOCK_OFFSET_MS: String(62 * DAY_MS + 60_000) });
    assert.equal(due.code, 0, due.stderr);
    assert.match(
      lineFor(due.stdout, model),
      /^time-model: OPENED cycle [0-9a-f-]{36} \(trigger: time\): Time threshold reached \(days: 62\/62, learnings: 20\)/,
    );
    const [event] = await thresholdEvents(stack, model);
    assert.deepEqual([event?.data.trigger, event?.data.counts.days_since_training], ['time', 62]);
  });

  it('performance trigger: online accuracy from recorded feedback, once the window has enough samples', async () => {
    const model = 'perf-model';
    await deployChampion(model, 'perf-v1', 0.95);
    // Outcomes on an older version do not count against the champion.
    for (let i = 0; i < 25; i++) {
      assert.equal(
        (await feedback({ model_id: model, model_version: 'perf-v0', outcome: 'corrected' })).status,
        201,
      );
    }
    const id = randomUUID();
    for (let i = 0; i < 19; i++) {
      const res = await feedback({
        ...(i === 0 ? { id } : {}),
        model_id: model,
        model_version: 'perf-v1',
        outcome: i < 11 ? 'accepted' : 'corrected',
        source: 'vscode',
      });
      assert.equal(res.status, 201, res.text);
    }
    // A retried outcome (same id) is recorded once.
    const retry = await feedback({ id, model_id: model, model_version: 'perf-v1', outcome: 'accepted' });
    assert.deepEqual([retry.status, retry.body['id']], [201, id]);
    const invalid = await feedback({ model_id: model, model_version: 'perf-v1', outcome: 'meh', extra: 1 });
    assert.deepEqual([invalid.status, invalid.body['code']], [422, 'VALIDATION_FAILED']);
    assert.match(
      String(invalid.body['detail']),
      /\/extra is not allowed; \/outcome must be one of accepted, corrected/,
    );

    const status = async () =>
      (
        await request<Record<string, unknown>>(
          gateway.baseUrl,
          `/api/v1/genesis/improvement/status?model_id=${model}`,
          { key: TEST_ADMIN_KEY },
        )
      ).body;
    // 19 samples < 20: the offline score (0.95) still stands once the monitor has handled them all.
    await waitFor('the monitor to handle every feedback.recorded', async () => {
      const info = await stack.client.jsm.consumers.info(STREAMS.events, 'monitor-feedback-recorded');
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.consumer_seq >= 44;
    });
    const before = await status();
    assert.equal(before['improvement_score'], 0.95);
    assert.equal(before['should_trigger'], false);
    assert.deepEqual(
      (await cyclesOf(stack, model)).map((c) => c.status),
      ['deployed'],
    );

    // The 20th outcome: 11/20 = 0.55 online, below 0.90.
    assert.equal(
      (await feedback({ model_id: model, model_version: 'perf-v1', outcome: 'corrected' })).status,
      201,
    );
    const [event] = await waitFor('threshold.reached (performance)', async () => {
      const e = await thresholdEvents(stack, model);
      return e.length > 0 ? e : undefined;
    });
    assert.equal(event!.data.trigger, 'performance');
    assert.deepEqual(
      [event!.data.counts.accuracy, event!.data.counts.accuracy_source, event!.data.counts.feedback_samples],
      [0.55, 'online', 20],
    );
    assert.match(
      event!.data.reason,
      /^Performance threshold reached \(accuracy: 0\.550\/0\.9 online over 20 outcomes/,
    );
    const after = await waitFor('status to show the online accuracy', async () => {
      const s = await status();
      return s['improvement_score'] === 0.55 ? s : undefined;
    });
    assert.equal(after['should_trigger'], true);
    const [{ n: rows }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM feedback WHERE model_id = $1`,
      [model],
    );
    assert.equal(rows, 45, '25 + 19 + 1: the retry added nothing');
  });

  it('performance trigger falls back to the last offline score without enough feedback', async () => {
    const model = 'perf-offline';
    await deployChampion(model, 'perf-offline-v1', 0.85);
    await storeLearnings(stack, model, 20, { publish: false }); // new evidence since the deployment
    const run = await once(model);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      lineFor(run.stdout, model),
      /OPENED cycle .* \(trigger: performance\): Performance threshold reached \(accuracy: 0\.850\/0\.9 offline is below/,
    );
  });

  it('a cycle stuck in a phase past its deadline is failed with the phase and reason', async () => {
    const model = 'stuck-model';
    const opened = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: model, trigger: 'manual', reason: 'seed', counts: {}, now: new Date() }),
    );
    assert.ok(opened.opened);
    for (const to of ['dataset_ready', 'training'] as const) {
      await stack.db.dataSource.transaction((m) => transitionCycle(m, opened.cycle.id, to));
    }
    const deadlines = JSON.stringify({ training: 30 });
    const early = await once(model, {
      GENESIS_CYCLE_PHASE_DEADLINES: deadlines,
      GENESIS_CLOCK_OFFSET_MS: String(20 * 60_000),
    });
    assert.doesNotMatch(early.stdout, /FAILED stuck cycle/);

    const late = await once(model, {
      GENESIS_CYCLE_PHASE_DEADLINES: deadlines,
      GENESIS_CLOCK_OFFSET_MS: String(31 * 60_000),
    });
    assert.equal(late.code, 0, late.stderr);
    assert.match(
      late.stdout,
      new RegExp(
        `stuck-model: FAILED stuck cycle ${opened.cycle.id} \\(PHASE_DEADLINE_EXCEEDED: stuck in training for 31 min \\(deadline 30 min\\)\\)`,
      ),
    );
    const [row] = await stack.db.query<{ status: string; failed_phase: string; failure_reason: string }>(
      `SELECT status, failed_phase, failure_reason FROM improvement_cycles WHERE id = $1`,
      [opened.cycle.id],
    );
    assert.deepEqual(row, {
      status: 'failed',
      failed_phase: 'training',
      failure_reason: 'PHASE_DEADLINE_EXCEEDED: stuck in training for 31 min (deadline 30 min)',
    });
    const msg = await stack.client.jsm.streams.getMessage(STREAMS.events, {
      last_by_subj: SUBJECTS.cycleFailed,
    });
    const failed = msg!.json<{ cycle_id: string; data: { phase: string; reason: { code: string } } }>();
    assert.deepEqual(
      [failed.cycle_id, failed.data.phase, failed.data.reason.code],
      [opened.cycle.id, 'training', 'PHASE_DEADLINE_EXCEEDED'],
    );
    // A new cycle may open now: the stuck one no longer holds the model's single active slot.
    const res = await request<Record<string, unknown>>(
      gateway.baseUrl,
      '/api/v1/genesis/improvement/trigger',
      {
        method: 'POST',
        key: TEST_ADMIN_KEY,
        json: { model_id: model },
      },
    );
    assert.equal(res.status, 202, res.text);
    await sleep(200);
  });

  it('--once exits 1 with one clear line on a bad setting', async () => {
    const run = await once('genesis', {
      GENESIS_LEARNING_THRESHOLD: 'lots',
      GENESIS_PERFORMANCE_THRESHOLD: '1.5',
    });
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(
      run.stderr,
      /GENESIS_LEARNING_THRESHOLD must be an integer.*GENESIS_PERFORMANCE_THRESHOLD must be between 0 and 1/,
    );
  });
});
