import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvent } from './events.format';

const envelope = (type: string, data: Record<string, unknown>, cycle_id?: string) => ({
  id: 'e1',
  type,
  version: 1,
  time: '2026-11-21T19:00:00.000Z',
  source: 'test',
  model_id: 'genesis',
  ...(cycle_id ? { cycle_id } : {}),
  correlation_id: 'c',
  causation_id: 'c',
  data,
});

describe('formatEvent', () => {
  it('prints time, subject, model/cycle and a summary of the data', () => {
    const line = formatEvent(
      envelope(
        'training.progress',
        {
          job_id: '0196aaaa-bbbb',
          step: 40,
          total_steps: 100,
          loss: 1.23456,
          tokens_per_second: 455.6,
          eta_seconds: 75,
        },
        '0196cccc-dddd-7000-8000-000000000001',
      ),
    );
    assert.equal(
      line,
      '2026-11-21T19:00:00.000Z  training.progress    genesis/0196cccc job 0196aaaa step 40/100, loss 1.2346, 456 tok/s, ETA 1m 15s',
    );
    assert.match(
      formatEvent(
        envelope('learning.rejected', {
          learning_id: '0196eeee',
          status: 'duplicate',
          duplicate_of: '0196ffff',
          reason: { code: 'DUPLICATE', message: 'same content' },
        }),
      ),
      /learning 0196eeee duplicate of 0196ffff: DUPLICATE same content$/,
    );
    assert.match(
      formatEvent(
        envelope('model.deployed', {
          model_version: 'genesis-20261121-190000',
          previous_version: 'genesis-20261101-100000',
        }),
      ),
      /genesis-20261121-190000 is champion \(was genesis-20261101-100000\)$/,
    );
  });

  it('falls back to the scalar fields of an event it does not know', () => {
    assert.match(
      formatEvent(envelope('model.surprise', { a: 'x', b: 2, nested: { c: 1 }, d: null })),
      /model\.surprise\s+genesis\s+a=x b=2 d=null$/,
    );
  });
});
