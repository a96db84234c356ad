import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideNearDuplicate } from './near-duplicate';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('decideNearDuplicate', () => {
  it('links a learning to the most similar older accepted one within the threshold', () => {
    const decision = decideNearDuplicate(
      { id: 'c', storedAt: at(10) },
      [
        { id: 'a', similarity: 0.85, storedAt: at(1) },
        { id: 'b', similarity: 0.93, storedAt: at(2) },
        { id: 'z', similarity: 0.79, storedAt: at(0) },
      ],
      0.8,
    );
    assert.deepEqual(decision, { kind: 'near_duplicate', of: 'b', similarity: 0.93 });
  });

  it('keeps the older copy as the original whichever is indexed first: newer near copies are demoted', () => {
    const decision = decideNearDuplicate(
      { id: 'a', storedAt: at(1) },
      [
        { id: 'b', similarity: 0.9, storedAt: at(5) },
        { id: 'x', similarity: 0.5, storedAt: at(6) },
      ],
      0.8,
    );
    assert.deepEqual(decision, { kind: 'original', demote: [{ id: 'b', similarity: 0.9 }] });
  });

  it('is an original with nothing within the threshold, and never its own duplicate', () => {
    assert.deepEqual(
      decideNearDuplicate({ id: 'a', storedAt: at(1) }, [{ id: 'a', similarity: 1, storedAt: at(1) }], 0.8),
      { kind: 'original', demote: [] },
    );
  });

  it('orders equal timestamps by id, so two replicas decide alike', () => {
    const d = decideNearDuplicate(
      { id: 'b', storedAt: at(1) },
      [{ id: 'a', similarity: 0.95, storedAt: at(1) }],
      0.8,
    );
    assert.deepEqual(d, { kind: 'near_duplicate', of: 'a', similarity: 0.95 });
  });
});
