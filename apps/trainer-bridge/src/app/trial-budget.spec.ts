import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideNextTrials } from './trial-budget';

const budget = { trials: 6, worker_seconds: 1000 };

describe('decideNextTrials', () => {
  it('fills the study up to its parallelism while trials remain', () => {
    assert.deepEqual(decideNextTrials({ finished: 1, running: 1, seconds: 10 }, budget, 3), {
      queue: 2,
      finish: false,
      stoppedBy: null,
    });
  });

  it('never queues past the trial budget, counting the trials in flight', () => {
    // 4 finished + 1 running: one more fits, not the two parallelism 3 would allow
    assert.equal(decideNextTrials({ finished: 4, running: 1, seconds: 10 }, budget, 3).queue, 1);
    assert.equal(decideNextTrials({ finished: 4, running: 2, seconds: 10 }, budget, 3).queue, 0);
  });

  it('waits for the trials in flight once the budget is spent, then finishes', () => {
    assert.deepEqual(decideNextTrials({ finished: 6, running: 1, seconds: 10 }, budget, 2), {
      queue: 0,
      finish: false,
      stoppedBy: 'trials',
    });
    assert.deepEqual(decideNextTrials({ finished: 6, running: 0, seconds: 10 }, budget, 2), {
      queue: 0,
      finish: true,
      stoppedBy: 'trials',
    });
  });

  it('stops queueing when the worker-seconds are spent, trials left or not', () => {
    assert.deepEqual(decideNextTrials({ finished: 2, running: 0, seconds: 1000.5 }, budget, 2), {
      queue: 0,
      finish: true,
      stoppedBy: 'worker_seconds',
    });
  });
});
