import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestDatabase } from '@genesis/testing';
import { CycleTransitionError, openCycle, transitionCycle, cycleTimeline } from '@genesis/cycles';

/** The state machine as other services use it: against real Postgres, with the real index. */
describe('cycle store (Postgres)', () => {
  let db: TestDatabase;
  const open = (modelId: string) =>
    db.dataSource.transaction((m) =>
      openCycle(m, { modelId, trigger: 'manual', reason: 'test', counts: {}, now: new Date() }),
    );
  const move = (id: string, to: Parameters<typeof transitionCycle>[2], opts = {}) =>
    db.dataSource.transaction((m) => transitionCycle(m, id, to, opts));

  before(async () => {
    db = await TestDatabase.create();
  });
  after(async () => {
    await db?.dispose();
  });

  it('opens at most one active cycle per model, even when ten open at once', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => open('m-race')));
    const winners = results.filter((r) => r.opened);
    assert.equal(winners.length, 1);
    const id = winners[0]!.opened ? winners[0]!.cycle.id : '';
    for (const r of results) if (!r.opened) assert.equal(r.active.id, id);
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM improvement_cycles WHERE model_id = 'm-race'`,
    );
    assert.equal(n, 1);
  });

  it('advances idempotently, stamps phases, refuses illegal moves with stable codes', async () => {
    const r = await open('m-walk');
    assert.ok(r.opened);
    const id = r.cycle.id;
    assert.equal((await move(id, 'dataset_ready', { patch: { snapshot_id: id } })).outcome, 'applied');
    assert.equal((await move(id, 'dataset_ready')).outcome, 'noop', 'a redelivered step');
    await assert.rejects(
      move(id, 'deployed'),
      (e: unknown) => e instanceof CycleTransitionError && e.code === 'ILLEGAL_TRANSITION',
    );
    const training = await move(id, 'training');
    assert.equal(training.cycle.status, 'training');
    assert.ok(training.cycle.training_at instanceof Date);
    assert.equal(training.cycle.snapshot_id, id);
    assert.equal((await move(id, 'opened')).outcome, 'noop', 'a stale step');

    const failed = await move(id, 'failed', { failure: { code: 'WORKER_LOST', message: 'no heartbeat' } });
    assert.deepEqual(
      [failed.cycle.status, failed.cycle.failed_phase, failed.cycle.failure_reason],
      ['failed', 'training', 'WORKER_LOST: no heartbeat'],
    );
    await assert.rejects(
      move(id, 'trained'),
      (e: unknown) => e instanceof CycleTransitionError && e.code === 'CYCLE_ALREADY_FINISHED',
    );
    await assert.rejects(
      move('00000000-0000-4000-8000-000000000000', 'training'),
      (e: unknown) => e instanceof CycleTransitionError && e.code === 'CYCLE_NOT_FOUND',
    );
    assert.deepEqual(
      (await cycleTimeline(db.dataSource, id)).map((t) => `${t.from ?? '∅'}→${t.to}`),
      ['∅→opened', 'opened→dataset_ready', 'dataset_ready→training', 'training→failed'],
    );
    // The model's active slot is free again.
    assert.equal((await open('m-walk')).opened, true);
  });
});
