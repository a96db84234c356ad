import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CYCLE_STATUSES,
  CycleTransitionError,
  HAPPY_PATH,
  allowedNext,
  countsAsRejection,
  isTerminal,
  keptChampion,
  planTransition,
} from './cycle-state';

const refusedWith = (code: string) => (err: unknown) =>
  err instanceof CycleTransitionError && err.code === code;

describe('cycle state machine', () => {
  it('walks the happy path one step at a time', () => {
    for (let i = 0; i + 1 < HAPPY_PATH.length; i++)
      assert.equal(planTransition(HAPPY_PATH[i]!, HAPPY_PATH[i + 1]!), 'apply');
  });

  it('lets every non-terminal state fail, and only an evaluated cycle be rejected', () => {
    for (const s of HAPPY_PATH.slice(0, -1)) assert.equal(planTransition(s, 'failed'), 'apply');
    assert.equal(planTransition('evaluated', 'rejected'), 'apply');
    assert.throws(() => planTransition('training', 'rejected'), refusedWith('ILLEGAL_TRANSITION'));
  });

  it('ends an evaluated cycle inconclusive: terminal, the champion kept, not a rejection', () => {
    assert.equal(planTransition('evaluated', 'inconclusive'), 'apply');
    assert.throws(() => planTransition('inconclusive', 'deploying'), refusedWith('CYCLE_ALREADY_FINISHED'));
    assert.ok(isTerminal('inconclusive') && keptChampion('inconclusive') && keptChampion('rejected'));
    assert.deepEqual(
      CYCLE_STATUSES.filter((s) => countsAsRejection(s)),
      ['rejected'],
    );
  });

  it('treats a repeated or stale step as an idempotent no-op', () => {
    for (const s of CYCLE_STATUSES) assert.equal(planTransition(s, s), 'noop');
    assert.equal(planTransition('evaluating', 'training'), 'noop', 'a redelivered older step');
    assert.equal(planTransition('deployed', 'trained'), 'noop');
  });

  it('refuses skipping ahead with ILLEGAL_TRANSITION and names what is allowed', () => {
    assert.throws(
      () => planTransition('opened', 'trained'),
      (err: unknown) => {
        assert.ok(err instanceof CycleTransitionError);
        assert.equal(err.code, 'ILLEGAL_TRANSITION');
        assert.match(err.message, /opened to trained \(allowed: dataset_ready, failed\)/);
        return true;
      },
    );
  });

  it('refuses leaving a terminal state with CYCLE_ALREADY_FINISHED', () => {
    assert.throws(() => planTransition('failed', 'training'), refusedWith('CYCLE_ALREADY_FINISHED'));
    assert.throws(() => planTransition('rejected', 'deploying'), refusedWith('CYCLE_ALREADY_FINISHED'));
    assert.throws(() => planTransition('deployed', 'failed'), refusedWith('CYCLE_ALREADY_FINISHED'));
    assert.deepEqual(allowedNext('deployed'), []);
  });

  it('refuses unknown states with UNKNOWN_CYCLE_STATUS', () => {
    assert.throws(() => planTransition('opened', 'done'), refusedWith('UNKNOWN_CYCLE_STATUS'));
    assert.throws(() => planTransition('paused', 'opened'), refusedWith('UNKNOWN_CYCLE_STATUS'));
  });
});
