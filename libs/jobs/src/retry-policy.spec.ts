import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRetry } from './retry-policy';

const oom = { code: 'CUDA_OOM', message: 'out of memory', retryable: true };
const bad = { code: 'INVALID_DATASET', message: 'no records', retryable: false };

describe('decideRetry', () => {
  it('retries a retryable failure while attempts remain, numbering the next attempt', () => {
    const d = decideRetry({ attempt: 1, max_attempts: 3 }, oom, true);
    assert.deepEqual(d, { action: 'retry', attempt: 2, reason: 'CUDA_OOM is retryable; attempt 2 of 3' });
  });

  it('gives up on the last attempt and says how many it took', () => {
    const d = decideRetry({ attempt: 3, max_attempts: 3 }, oom, true);
    assert.equal(d.action, 'give_up');
    assert.equal(d.action === 'give_up' && d.message, 'out of memory after 3 attempt(s)');
  });

  it('gives up at once on a failure that is not retryable, naming the role', () => {
    const d = decideRetry({ attempt: 1, max_attempts: 3, role: 'champion' }, bad, true);
    assert.deepEqual(d, {
      action: 'give_up',
      code: 'INVALID_DATASET',
      message: 'champion: no records',
      reason: 'INVALID_DATASET is not retryable',
    });
  });

  it('only records a failure whose owner no longer waits', () => {
    assert.equal(decideRetry({ attempt: 1, max_attempts: 3 }, oom, false).action, 'record_only');
  });
});
