import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestDatabase } from '@genesis/testing';
import { randomUUID } from 'node:crypto';
import {
  CycleTransitionError,
  DEFAULT_REJECTION_BACKOFF,
  DEFAULT_THRESHOLDS,
  computeStatus,
  cycleTimeline,
  openCycle,
  transitionCycle,
} from '@genesis/cycles';

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

  it('ends a cycle inconclusive (ADR 0015): the slot frees, and the status says how many more items it needs', async () => {
    const r = await open('m-unsure');
    assert.ok(r.opened);
    const id = r.cycle.id;
    for (const to of ['dataset_ready', 'training', 'trained', 'evaluating', 'evaluated'] as const)
      await move(id, to);
    // The evaluator's record of the decision, as the status query reads it.
    const version = 'genesis-20261121-140000';
    const evaluationId = randomUUID();
    await db.query(
      `INSERT INTO model_versions (version, model_id, cycle_id, base_model, status, artifact)
       VALUES ($1, 'm-unsure', $2, 'tiny', 'rejected', '{}')`,
      [version, id],
    );
    const power = {
      target_power: 0.8,
      mde: 0.3134,
      items: 20,
      discordance: 0,
      needed_items: 671,
      unwinnable_items: 0,
    };
    await db.query(
      `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, base_model, suite, status, decision, reason, result)
       VALUES ($1, $2, 'm-unsure', $3, 'tiny', '{}', 'completed', 'inconclusive', 'inconclusive: …', $4)`,
      [evaluationId, id, version, JSON.stringify({ power, min_improvement: 0.01 })],
    );
    const ended = await move(id, 'inconclusive', { patch: { evaluation_id: evaluationId } });
    assert.equal(ended.cycle.status, 'inconclusive');
    assert.ok(ended.cycle.inconclusive_at instanceof Date);
    await assert.rejects(
      move(id, 'deploying'),
      (e: unknown) => e instanceof CycleTransitionError && e.code === 'CYCLE_ALREADY_FINISHED',
    );

    const policy = {
      defaults: DEFAULT_THRESHOLDS,
      perModel: {},
      failedCooldownMinutes: 30,
      rejectionBackoff: DEFAULT_REJECTION_BACKOFF,
    };
    const status = await computeStatus(db.dataSource, policy, 'm-unsure', new Date());
    assert.match(
      status.trigger_reason,
      /; the last cycle was inconclusive: its 20 held-out items detect \+0\.3134 at 80% power, not \+0\.01; about 651 more are needed$/,
    );
    assert.equal((await open('m-unsure')).opened, true, 'an inconclusive cycle is an ended one');
  });
});
