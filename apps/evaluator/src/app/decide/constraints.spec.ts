import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkConstraints } from '@genesis/engine';
import { applyConstraints } from './constraints';

const gate = {
  decision: 'promote' as const,
  reason: 'promote: accuracy 0.5000 → 0.9000 (+0.4000 > 0.02); guards ok',
};

describe('the constraint part of the gate (ADR 0027)', () => {
  it('rejects a promotable candidate that breaks a constraint, the code and figures first', () => {
    const checks = checkConstraints(
      [
        { constraint: 'latency_target_ms', limit: 1, source: 'family' },
        { constraint: 'max_size_bytes', limit: 5000, source: 'task' },
      ],
      { latency_target_ms: 25, max_size_bytes: 4000 },
    );
    const r = applyConstraints(gate, checks);
    assert.equal(r.decision, 'reject');
    assert.equal(
      r.reason,
      'reject: latency_constraint: mean latency 25 ms per item > 1 (family); artifact size 4000 bytes ≤ 5000 (task); accuracy 0.5000 → 0.9000 (+0.4000 > 0.02); guards ok',
    );
    assert.deepEqual(
      r.broken.map((c) => c.code),
      ['latency_constraint'],
    );
  });

  it('an inconclusive candidate that breaks one is rejected (conclusive), one that keeps them is unchanged', () => {
    const broken = checkConstraints([{ constraint: 'max_size_bytes', limit: 10, source: 'task' }], {
      latency_target_ms: null,
      max_size_bytes: 11,
    });
    const inconclusive = { decision: 'inconclusive' as const, reason: 'inconclusive: few items' };
    assert.equal(applyConstraints(inconclusive, broken).decision, 'reject');
    const kept = checkConstraints([{ constraint: 'latency_target_ms', limit: 1e6, source: 'family' }], {
      latency_target_ms: 25,
      max_size_bytes: null,
    });
    const r = applyConstraints(gate, kept);
    assert.equal(r.decision, 'promote');
    assert.match(r.reason, /^promote: mean latency 25 ms per item ≤ 1000000 \(family\); accuracy/);
    assert.deepEqual(applyConstraints(gate, []), { ...gate, broken: [] });
  });

  it('never rejects on an unmeasured value', () => {
    const unmeasured = checkConstraints([{ constraint: 'latency_target_ms', limit: 1, source: 'family' }], {
      latency_target_ms: null,
      max_size_bytes: null,
    });
    assert.equal(applyConstraints(gate, unmeasured).decision, 'promote');
  });
});
