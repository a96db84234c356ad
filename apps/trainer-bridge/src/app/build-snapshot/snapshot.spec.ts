import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { decontaminationKey, shippedSuiteContaminants } from '@genesis/contracts';
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
    for (const l of data) assert.equal(isHeldOut(decontaminationKey(l), 0.1), s.evalIds.includes(l.id));
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

describe('decontamination (normalised content, ADR 0016)', () => {
  const policy = { evalFraction: 0.2, replayShare: 1 };
  const make = (
    context: string,
    correction: string,
    model_output: string | null = null,
  ): SnapshotLearning => ({
    id: randomUUID(),
    content_hash: createHash('sha256').update(`${context}|${model_output}|${correction}`).digest('hex'),
    kind: 'correction',
    language: 'python',
    context,
    model_output,
    correction,
    snapshot_id: null,
  });
  // 60 distinct functions: about 12 of them are held out.
  const originals = Array.from({ length: 60 }, (_, i) =>
    make(
      `def f${i}(items):\n    return items.count(${i})`,
      `def f${i}(items):\n    return len(items) - ${i}`,
    ),
  );
  const variantsOf = (l: SnapshotLearning) => [
    make(l.context!.replace('return ', 'return  '), l.correction.replace(' - ', '  -  ')), // double space
    make(l.context!, `${l.correction}  # fixed the count`), // trailing comment
    make(l.context!.replaceAll('items', 'values'), l.correction.replaceAll('items', 'values')), // renamed variable
    make(l.context!, l.correction, 'return 0'), // another model output
    make('# a new prompt\nx = 1', l.correction), // the held-out answer under another prompt
  ];

  it('never trains on a spaced, commented, renamed or re-prompted variant of a held-out item, and says why', () => {
    const base = buildSnapshot(originals, policy);
    const heldOut = originals.filter((l) => base.evalIds.includes(l.id));
    assert.ok(heldOut.length >= 5, `${heldOut.length} held out`);
    const variants = heldOut.flatMap(variantsOf);
    const s = buildSnapshot([...originals, ...variants], policy);
    const trained = new Set([...s.trainIds, ...s.replayIds]);
    for (const v of variants) assert.ok(!trained.has(v.id), `trained on a variant: ${v.correction}`);
    for (const line of s.jsonl.trim().split('\n')) {
      const id = (JSON.parse(line) as { learning_id: string }).learning_id;
      assert.ok(!variants.some((v) => v.id === id));
    }
    // Four of each five variants normalise to their item and are held out with it; the fifth teaches
    // its answer under another prompt and is left out.
    // (Unless the re-prompted one falls into the held-out share itself.)
    const reprompted = variants.filter((_, i) => i % 5 === 4);
    const heldAnyway = reprompted.filter((v) => isHeldOut(decontaminationKey(v), policy.evalFraction)).length;
    assert.equal(s.decontamination.held_out_variants, heldOut.length * 4);
    assert.equal(s.decontamination.held_out_answer, heldOut.length - heldAnyway);
    assert.equal(s.excludedIds.length, heldOut.length - heldAnyway);
    assert.equal(s.decontamination.regression, 0);
    // Nothing else was lost: every original that is not held out is still trained on.
    assert.deepEqual(originals.filter((l) => trained.has(l.id)).length, originals.length - heldOut.length);
  });

  it("never trains on a regression item, nor its answer (the anchor suite's keys: test_anchor.py)", () => {
    const contaminants = shippedSuiteContaminants();
    const regression = make('def add(a, b):\n    return a - b', 'def add(x, y):\n    return x + y  # sum');
    const sameAnswer = make('def f():', 'def add(a, b):\n    return a + b');
    const s = buildSnapshot(
      [...originals, regression, sameAnswer],
      { ...policy, evalFraction: 0 },
      contaminants,
    );
    assert.equal(s.decontamination.regression, 2);
    assert.deepEqual(new Set(s.excludedIds), new Set([regression.id, sameAnswer.id]));
    assert.equal(s.trainIds.length, originals.length);
  });

  it('at level layout, a renamed variable is a new example but spacing and comments are not', () => {
    const item = originals[0]!;
    const [spaced, commented, renamed] = variantsOf(item);
    const key = (l: SnapshotLearning) => decontaminationKey(l, 'layout');
    assert.equal(key(spaced!), key(item));
    assert.equal(key(commented!), key(item));
    assert.notEqual(key(renamed!), key(item));
  });
});
