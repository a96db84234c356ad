import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from './micro-batcher';

describe('MicroBatcher', () => {
  it('groups concurrent submissions, keeps results in order, and caps the batch size', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => {
      calls.push(items);
      return items.map((i) => i * 10);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.submit(i)));
    assert.deepEqual(results, [10, 20, 30, 40, 50]);
    assert.deepEqual(calls, [
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('rejects every submission of a failed batch', async () => {
    const batcher = new MicroBatcher<number, number>(async () => {
      throw new Error('db down');
    });
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
  });
});
