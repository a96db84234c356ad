import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { claimIterationRequest } from '@genesis/engine';
import { ServiceProcess, TestStack, sleep, waitFor } from '@genesis/testing';

interface Row {
  iteration: number;
  trigger: string;
  replica: string;
}

/**
 * One interval, one planning pass and one history row, however many monitor replicas tick
 * (ADR 0027): two real monitor processes on one database with a 3 s interval. After both booted,
 * only the lease holder writes interval iterations; when it is SIGKILLed the other takes over.
 */
describe('monitor: interval iterations across replicas', () => {
  let stack: TestStack;
  const started: ServiceProcess[] = [];
  const rows = () =>
    stack.db.query<Row>(
      `SELECT iteration, trigger, resources ->> 'replica' AS replica FROM engine_iterations ORDER BY iteration`,
    );

  before(async () => {
    stack = await TestStack.start();
  });

  after(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await stack?.dispose();
  });

  it('two replicas write one history row per interval; the survivor takes over', async () => {
    const env = stack.env({ GENESIS_IMPROVEMENT_INTERVAL: '3' });
    const a = await ServiceProcess.start('monitor', env);
    started.push(a);
    const first = await waitFor('the first replica boot iteration', async () => (await rows())[0]);
    const b = await ServiceProcess.start('monitor', env);
    started.push(b);
    // B's boot check takes the lease over: the replica of every later interval row is B's.
    const bootB = await waitFor('the second replica boot iteration', async () =>
      (await rows()).find((r) => r.replica !== first.replica),
    );
    const replicaB = bootB.replica;
    await sleep(4000); // an interval A had already started may still land; let it
    const from = Math.max(...(await rows()).map((r) => r.iteration));
    await sleep(12_000);
    const window = (await rows()).filter((r) => r.iteration > from);
    process.stdout.write(`# ${window.length} interval rows in 12 s at a 3 s interval, two replicas\n`);
    assert.ok(
      window.every((r) => r.trigger === 'interval' && r.replica === replicaB),
      JSON.stringify(window),
    );
    // 12 s / 3 s = 4 intervals: one row each (±1 for where the window cuts), not one per replica.
    assert.ok(window.length >= 3 && window.length <= 5, JSON.stringify(window));

    await b.kill('SIGKILL');
    const last = Math.max(...(await rows()).map((r) => r.iteration));
    // The holder is silent: after 1.5 intervals the next tick of A claims the lease.
    const taken = await waitFor(
      'the survivor to take the interval over',
      async () => (await rows()).find((r) => r.iteration > last && r.replica === first.replica),
      { timeoutMs: 20_000 },
    );
    assert.equal(taken.trigger, 'interval');
  });

  it('claims an iteration request once, even when two claim it at the same moment', async () => {
    const id = randomUUID();
    const claims = await Promise.all([
      claimIterationRequest(stack.db.dataSource, id, 'replica-1'),
      claimIterationRequest(stack.db.dataSource, id, 'replica-2'),
    ]);
    assert.deepEqual(claims.sort(), [false, true]);
    assert.equal(await claimIterationRequest(stack.db.dataSource, id, 'replica-1'), false);
    assert.equal(await claimIterationRequest(stack.db.dataSource, randomUUID(), 'replica-1'), true);
  });
});
