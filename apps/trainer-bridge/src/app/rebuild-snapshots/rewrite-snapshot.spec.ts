import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, type SnapshotLearning } from '../build-snapshot/snapshot';
import { rewriteSnapshot } from './rewrite-snapshot';

const learning = (
  n: number,
  correction = `    return a + ${n}`,
  snapshotId: string | null = null,
): SnapshotLearning => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  content_hash: `${n}`.padStart(64, 'a'),
  kind: 'correction',
  language: 'python',
  context: `def f_${n}(a):`,
  model_output: '    return a',
  correction,
  snapshot_id: snapshotId,
});

describe('rewriteSnapshot', () => {
  const fresh = [1, 2, 3].map((n) => learning(n));
  const replayed = [4, 5].map((n) => learning(n, undefined, 'earlier'));
  const built = buildSnapshot([...fresh, ...replayed], { evalFraction: 0, replayShare: 1 });

  it('renders an affected record again from its cleaned row, keeping every other byte and the replay flag', () => {
    const cleaned = learning(4, '    return a + [REDACTED:acme-token]', 'earlier');
    const out = rewriteSnapshot(built.jsonl, new Map([[cleaned.id, cleaned]]));
    assert.equal(out.changed, true);
    assert.deepEqual(out.rewritten, [cleaned.id]);
    assert.deepEqual(out.dropped, []);
    const before = built.jsonl.split('\n');
    const after = out.jsonl.split('\n');
    assert.equal(after.length, before.length);
    const changedLines = after.filter((line, i) => line !== before[i]);
    assert.equal(changedLines.length, 1);
    assert.deepEqual(JSON.parse(changedLines[0]!), {
      learning_id: cleaned.id,
      kind: 'correction',
      language: 'python',
      context: 'def f_4(a):',
      model_output: '    return a',
      correction: '    return a + [REDACTED:acme-token]',
      replay: true,
    });
    assert.equal(out.replayRecords, 2);
    // The same rows again: the same bytes, nothing to do (a redelivery).
    assert.equal(rewriteSnapshot(out.jsonl, new Map([[cleaned.id, cleaned]])).changed, false);
  });

  it('drops the record of a learning that may no longer be trained on, and only that one', () => {
    const gone = fresh[1]!.id;
    const out = rewriteSnapshot(built.jsonl, new Map([[gone, null]]));
    assert.deepEqual(out.dropped, [gone]);
    assert.equal(out.learningIds.length, built.trainIds.length + built.replayIds.length - 1);
    assert.ok(!out.jsonl.includes(gone));
    assert.notEqual(out.sha256, built.sha256);
  });

  it('leaves a snapshot without affected records unchanged, and empties one whose records are all gone', () => {
    assert.equal(rewriteSnapshot(built.jsonl, new Map([[learning(99).id, null]])).changed, false);
    const all = new Map([...fresh, ...replayed].map((l) => [l.id, null] as const));
    const empty = rewriteSnapshot(built.jsonl, all);
    assert.equal(empty.jsonl, '');
    assert.deepEqual(empty.learningIds, []);
  });
});
