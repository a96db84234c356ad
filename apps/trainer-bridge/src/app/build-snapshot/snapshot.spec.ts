import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { buildSnapshot, isHeldOut, type SnapshotLearning } from './snapshot';

function learning(i: number, snapshotId: string | null = null): SnapshotLearning {
  const correction = `return x * ${i}`;
  return {
    id: randomUUID(),
    content_hash: createHash('sha256').update(correction).digest('hex'),
    kind: 'correction',
    language: 'python',
    context: `def f${i}(x):`,
    model_output: 'return x',
    correction,
    snapshot_id: snapshotId,
  };
}

describe('buildSnapshot', () => {
  const policy = { evalFraction: 0.1, replayShare: 1 };
  const data = Array.from({ length: 300 }, (_, i) => learning(i, i < 100 ? randomUUID() : null));

  it('gives the same bytes and hash for the same learnings, in any order', () => {
    const a = buildSnapshot(data, policy);
    const b = buildSnapshot([...data].reverse(), policy);
    assert.equal(a.sha256, b.sha256);
    assert.equal(a.jsonl, b.jsonl);
    assert.equal(a.sha256, createHash('sha256').update(a.jsonl).digest('hex'));
  });

  it('never puts a held-out learning into the training data', () => {
    const s = buildSnapshot(data, policy);
    const trained = new Set([...s.trainIds, ...s.replayIds]);
    assert.ok(s.evalIds.length > 10 && s.evalIds.length < 60, `eval share ${s.evalIds.length}/300`);
    for (const id of s.evalIds) assert.ok(!trained.has(id));
    for (const line of s.jsonl.trim().split('\n')) {
      assert.ok(!s.evalIds.includes((JSON.parse(line) as { learning_id: string }).learning_id));
    }
    // Frozen: membership depends on the content only.
    const again = buildSnapshot(
      data.map((l) => ({ ...l, id: l.id })),
      { ...policy, replayShare: 0 },
    );
    assert.deepEqual(again.evalIds, s.evalIds);
    for (const l of data) assert.equal(isHeldOut(l.content_hash, 0.1), s.evalIds.includes(l.id));
  });

  it('takes every new learning and a replay share of earlier ones', () => {
    const cumulative = buildSnapshot(data, policy);
    const none = buildSnapshot(data, { ...policy, replayShare: 0 });
    const half = buildSnapshot(data, { ...policy, replayShare: 0.5 });
    assert.equal(none.replayIds.length, 0);
    assert.deepEqual(none.trainIds, cumulative.trainIds);
    assert.ok(half.replayIds.length > 20 && half.replayIds.length < cumulative.replayIds.length);
    assert.equal(cumulative.trainIds.length + cumulative.replayIds.length + cumulative.evalIds.length, 300);
  });
});
