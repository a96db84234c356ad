import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concurrencyLimit, parseHeartbeat, type WorkerHeartbeat } from './concurrency';

const beat = (over: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat => ({
  worker_id: 'w1',
  host: 'gpu-0',
  kinds: ['training', 'evaluation'],
  slots_total: 2,
  slots_busy: 0,
  memory_used_fraction: 0.3,
  gpu_memory_used_fraction: null,
  sent_at: '2026-12-05T01:00:00.000Z',
  ...over,
});

describe('engine concurrency limit', () => {
  const policy = { maxConcurrentTasks: 4, memoryThreshold: 0.8 };

  it('is the configured maximum without heartbeats and while workers have room', () => {
    assert.equal(concurrencyLimit(policy, [], 0).limit, 4);
    assert.equal(concurrencyLimit(policy, [beat()], 1).limit, 4);
  });

  it('halves under memory pressure and comes back when memory recovers', () => {
    const high = concurrencyLimit(policy, [beat(), beat({ worker_id: 'w2', memory_used_fraction: 0.93 })], 1);
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

  it('parses a heartbeat or names what is wrong', () => {
    assert.deepEqual(parseHeartbeat(beat()), beat());
    assert.equal(
      parseHeartbeat({ ...beat(), memory_used_fraction: 1.5 }),
      'memory_used_fraction must be in 0..1',
    );
    assert.equal(parseHeartbeat({ ...beat(), slots_busy: -1 }), 'slots_busy must be an integer ≥ 0');
    assert.equal(parseHeartbeat([]), 'not a JSON object');
  });
});
