import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess, TestStack, sleep, waitFor } from '@genesis/testing';
import { cyclesOf, runMonitorOnce, storeLearnings, thresholdEvents } from './helpers';

/**
 * Exactly one cycle, and exactly one threshold.reached, whatever the concurrency and whenever the
 * monitor dies: the row and its event are one transaction, and the partial unique index settles
 * races. Each case uses its own model so they do not interfere.
 */
describe('monitor: racing replicas and SIGKILL between counting and publishing', () => {
  let stack: TestStack;
  const started: ServiceProcess[] = [];
  const monitor = async (extra: Record<string, string> = {}) => {
    const p = await ServiceProcess.start('monitor', stack.env(extra));
    started.push(p);
    return p;
  };
  const thresholdsFor = async (model: string) => (await thresholdEvents(stack, model)).length;

  before(async () => {
    stack = await TestStack.start();
  });

  // Replicas share the durable consumers: each case stops its monitors so the next gets the events.
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });

  after(async () => {
    await stack?.dispose();
  });

  const killedBySelf = (p: ServiceProcess) =>
    waitFor(`${p.app} to SIGKILL itself`, async () => (p.running ? undefined : p.exited()), {
      timeoutMs: 20_000,
    });

  it('two monitor processes racing on the same 100th learning open exactly one cycle', async () => {
    const model = 'race-once';
    await storeLearnings(stack, model, 100, { publish: false });
    // Both decide "open" at the same moment; the winner holds its transaction open for 2 s, so the
    // loser's insert surely meets it on the unique index (and waits, then yields).
    const env = stack.env({ GENESIS_MONITOR_MODELS: model, GENESIS_TEST_HOLD_BEFORE_COMMIT_MS: '2000' });
    const runs = await Promise.all([runMonitorOnce(env), runMonitorOnce(env)]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const out = runs.map((r) => r.stdout.trim()).sort();
    const cycles = await cyclesOf(stack, model);
    assert.equal(cycles.length, 1, JSON.stringify(cycles));
    assert.deepEqual(
      out.map((line) => line.replace(/[0-9a-f-]{36}/g, '<id>')),
      [
        'race-once: CYCLE_RUNNING: Learning threshold reached (learnings: 100/100); cycle <id> is opened (opened concurrently elsewhere)',
        'race-once: OPENED cycle <id> (trigger: learnings): Learning threshold reached (learnings: 100/100); opened cycle <id>',
      ],
    );
    await waitFor('threshold.reached', async () => (await thresholdsFor(model)) >= 1);
    assert.equal(await thresholdsFor(model), 1);
  });

  it('two replicas receiving the 100th learning event both check: still one cycle', async () => {
    const model = 'race-events';
    const env = { GENESIS_MONITOR_MODELS: model, GENESIS_TEST_HOLD_BEFORE_COMMIT_MS: '300' };
    await Promise.all([monitor(env), monitor(env)]);
    await storeLearnings(stack, model, 98);
    // Two learnings arrive together: each replica may get one and both count ≥ 100.
    await storeLearnings(stack, model, 2);
    await waitFor('threshold.reached', async () => (await thresholdsFor(model)) >= 1);
    await sleep(1500);
    assert.equal((await cyclesOf(stack, model)).length, 1);
    assert.equal(await thresholdsFor(model), 1);
  });

  it('SIGKILL after counting, before the commit: after restart the cycle opens exactly once', async () => {
    const model = 'crash-before-commit';
    await storeLearnings(stack, model, 99, { publish: false });
    const doomed = await monitor({ GENESIS_MONITOR_MODELS: model, GENESIS_TEST_CRASH_AT: 'before-commit' });
    await storeLearnings(stack, model, 1);
    assert.equal(await killedBySelf(doomed), 'SIGKILL', doomed.logs);
    assert.match(doomed.logs, /GENESIS_TEST_CRASH_AT=before-commit/);
    assert.equal((await cyclesOf(stack, model)).length, 0, 'the open transaction died with the process');
    assert.equal(await thresholdsFor(model), 0);

    await monitor({ GENESIS_MONITOR_MODELS: model });
    await waitFor('threshold.reached after restart', async () => (await thresholdsFor(model)) >= 1);
    await sleep(1500);
    const cycles = await cyclesOf(stack, model);
    assert.equal(cycles.length, 1);
    assert.equal(await thresholdsFor(model), 1);
    assert.equal((await thresholdEvents(stack, model))[0]!.id, cycles[0]!.threshold_event_id);
  });

  it('SIGKILL after the commit, before publishing: after restart threshold.reached is published once', async () => {
    const model = 'crash-after-commit';
    await storeLearnings(stack, model, 99, { publish: false });
    const doomed = await monitor({ GENESIS_MONITOR_MODELS: model, GENESIS_TEST_CRASH_AT: 'after-commit' });
    await storeLearnings(stack, model, 1);
    assert.equal(await killedBySelf(doomed), 'SIGKILL', doomed.logs);
    const cycles = await cyclesOf(stack, model);
    assert.equal(cycles.length, 1, 'the cycle committed');
    const [pending] = await stack.db.query<{ published_at: Date | null }>(
      `SELECT published_at FROM outbox WHERE event_id = $1`,
      [cycles[0]!.threshold_event_id],
    );
    assert.equal(pending!.published_at, null, 'its event waits in the outbox');
    assert.equal(await thresholdsFor(model), 0);

    await monitor({ GENESIS_MONITOR_MODELS: model });
    await waitFor('threshold.reached after restart', async () => (await thresholdsFor(model)) >= 1);
    await sleep(1500);
    assert.equal((await cyclesOf(stack, model)).length, 1);
    const events = await thresholdEvents(stack, model);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.id, cycles[0]!.threshold_event_id);
  });
});
