import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RUNNABLE_TASK_KINDS } from '@genesis/engine';
import { KIND_STARTERS } from './kinds';

describe('engine kinds', () => {
  it('the kinds the API accepts are exactly the kinds the scheduler can start', () => {
    assert.deepEqual(Object.keys(KIND_STARTERS).sort(), [...RUNNABLE_TASK_KINDS].sort());
  });
});
