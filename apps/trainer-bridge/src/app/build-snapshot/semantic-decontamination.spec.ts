import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { semanticDecontamination } from './semantic-decontamination';

const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / n));
};

describe('semanticDecontamination', () => {
  it('leaves out a candidate near an eval item, keeps a distinct one, counts the unembedded', () => {
    const result = semanticDecontamination(
      [
        { id: 'reworded-held-out', vector: unit(1, 0.3, 0) },
        { id: 'distinct', vector: unit(0, 0, 1) },
        { id: 'not-embedded', vector: null },
      ],
      [
        { id: 'held-out', vector: unit(1, 0.25, 0) },
        { id: 'other-eval', vector: unit(0, 1, 0) },
      ],
      0.8,
    );
    assert.deepEqual(
      result.excluded.map((e) => [e.id, e.near, e.reason]),
      [['reworded-held-out', 'held-out', 'near_eval_item']],
    );
    assert.ok(result.excluded[0]!.similarity > 0.99);
    assert.equal(result.unchecked, 1);
  });

  it('excludes nothing without eval items, and never compares vectors of another dimension', () => {
    assert.deepEqual(semanticDecontamination([{ id: 'a', vector: unit(1, 0) }], [], 0.8).excluded, []);
    assert.deepEqual(
      semanticDecontamination([{ id: 'a', vector: unit(1, 0) }], [{ id: 'e', vector: unit(1, 0, 0) }], 0.8)
        .excluded,
      [],
    );
  });

  it('names the suite of the nearest item: in-domain or a shipped one, counted per suite', () => {
    const result = semanticDecontamination(
      [
        { id: 'reworded-humaneval', vector: unit(0, 1, 0.2) },
        { id: 'reworded-held-out', vector: unit(1, 0, 0.1) },
        { id: 'distinct', vector: unit(0, 0, 1) },
      ],
      [
        { id: 'held-out', suite: 'in-domain', vector: unit(1, 0, 0) },
        { id: 'HumanEval/0', suite: 'humaneval-1.0.3', vector: unit(0, 1, 0.25) },
        { id: 'regression-001', suite: 'regression.v1', vector: unit(0.3, 0.3, -1) },
      ],
      0.8,
    );
    assert.deepEqual(
      result.excluded.map((e) => [e.id, e.near, e.suite, e.reason]),
      [
        ['reworded-humaneval', 'HumanEval/0', 'humaneval-1.0.3', 'near_regression_item'],
        ['reworded-held-out', 'held-out', 'in-domain', 'near_eval_item'],
      ],
    );
    assert.deepEqual(result.by_suite, { 'in-domain': 1, 'humaneval-1.0.3': 1, 'regression.v1': 0 });
  });
});
