import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DLQ_HEADERS } from '@genesis/messaging';
import { deadLetterVerdict } from './dead-letter-failure';

const CYCLE = '0193f0a1-0000-7000-8000-0000000000c1';
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function headers(over: Record<string, string> = {}) {
  const h: Record<string, string> = {
    [DLQ_HEADERS.code]: 'SCHEMA_INVALID',
    [DLQ_HEADERS.reason]: '/data/device contains U+0000 (NUL), which text cannot store',
    [DLQ_HEADERS.subject]: 'evaluation.completed',
    [DLQ_HEADERS.consumer]: 'evaluator-evaluation-completed',
    [DLQ_HEADERS.sequence]: '42',
    ...over,
  };
  return (name: string) => h[name];
}

describe('a dead letter and its cycle', () => {
  it('fails the cycle named by the Genesis-Cycle-Id header, with the subject, consumer and reason', () => {
    const v = deadLetterVerdict(
      headers({ [DLQ_HEADERS.cycle]: CYCLE, [DLQ_HEADERS.model]: 'genesis' }),
      bytes('redacted'),
    );
    assert.deepEqual(v, {
      fail: true,
      cycleId: CYCLE,
      modelId: 'genesis',
      failure: {
        code: 'DEAD_LETTERED',
        message:
          'evaluation.completed (stream sequence 42) was dead-lettered by evaluator-evaluation-completed: ' +
          'SCHEMA_INVALID: /data/device contains U+0000 (NUL), which text cannot store',
      },
    });
  });

  it("falls back to the envelope's top-level cycle_id (letters written before the header existed)", () => {
    const v = deadLetterVerdict(
      headers(),
      bytes({ id: 'x', cycle_id: CYCLE.toUpperCase(), model_id: 'genesis' }),
    );
    assert.equal(v.fail && v.cycleId, CYCLE);
  });

  it('leaves alone letters without a well-formed cycle id, and training.progress heartbeats', () => {
    assert.deepEqual(deadLetterVerdict(headers(), bytes({ learning_id: 'l1' })), {
      fail: false,
      why: 'no cycle id',
    });
    assert.deepEqual(deadLetterVerdict(headers(), bytes('not json')), { fail: false, why: 'no cycle id' });
    assert.equal(deadLetterVerdict(headers({ [DLQ_HEADERS.cycle]: "x' OR 1=1" }), bytes('')).fail, false);
    const progress = deadLetterVerdict(
      headers({ [DLQ_HEADERS.cycle]: CYCLE, [DLQ_HEADERS.subject]: 'training.progress' }),
      bytes(''),
    );
    assert.equal(progress.fail, false);
  });

  it('keeps the failure reason storable and bounded', () => {
    const v = deadLetterVerdict(
      headers({ [DLQ_HEADERS.cycle]: CYCLE, [DLQ_HEADERS.reason]: `bad\u0000${'x'.repeat(5000)}` }),
      bytes(''),
    );
    assert.ok(v.fail);
    assert.ok(!v.failure.message.includes('\u0000'));
    assert.ok(v.failure.message.length < 1100);
  });
});
