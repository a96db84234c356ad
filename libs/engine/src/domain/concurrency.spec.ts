import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concurrencyLimit, type WorkerLoad } from './concurrency';

const beat = (over: Partial<WorkerLoad> = {}): WorkerLoad => ({
  slots_total: 2,
  slots_busy: 0,
  memory_used_fraction: 0.3,
  ...over,
});

describe('engine concurrency limit', () => {
  const policy = { maxConcurrentTasks: 4, memoryThreshold: 0.8 };

  it('is the configured maximum without heartbeats and while workers have room', () => {
    assert.equal(concurrencyLimit(policy, [], 0).limit, 4);
    assert.equal(concurrencyLimit(policy, [beat()], 1).limit, 4);
  });

  it('halves under memory pressure and comes back when memory recovers', () => {
    const high = concurrencyLimit(policy, [beat(), beat({ memory_used_fraction: 0.93 })], 1);
    assert.equal(high.limit, 2);
    assert.match(high.reason, /memory 0\.93 > 0\.8/);
    assert.equal(
      concurrencyLimit({ ...policy, maxConcurrentTasks: 1 }, [beat({ memory_used_fraction: 0.9 })], 0).limit,
      1,
    );
    assert.equal(concurrencyLimit(policy, [beat({ memory_used_fraction: 0.5 })], 1).limit, 4);
  });

  it('holds at what runs when no worker has a free slot', () => {
    const full = concurrencyLimit(policy, [beat({ slots_busy: 2 })], 1);
    assert.equal(full.limit, 1);
    assert.match(full.reason, /no free worker slot/);
  });
});
