/**
 * The near-duplicate decision (ADR 0018), a pure function: given a learning and the accepted
 * learnings of the same model whose embeddings are within the threshold, the older one stays the
 * original. Order is (stored_at, id), so the decision is the same whichever of two near copies is
 * indexed first: if the new learning is older than its near neighbours, they become its
 * near-duplicates instead.
 */
export interface Neighbour {
  id: string;
  similarity: number;
  storedAt: Date;
}

export type NearDuplicateDecision =
  | { kind: 'original'; demote: { id: string; similarity: number }[] }
  | { kind: 'near_duplicate'; of: string; similarity: number };

export function decideNearDuplicate(
  learning: { id: string; storedAt: Date },
  neighbours: readonly Neighbour[],
  threshold: number,
): NearDuplicateDecision {
  const near = neighbours.filter((n) => n.id !== learning.id && n.similarity >= threshold);
  const older = near.filter((n) => before(n, learning));
  if (older.length > 0) {
    // The most similar older one is the original; ties go to the oldest.
    const best = [...older].sort((a, b) => b.similarity - a.similarity || (before(a, b) ? -1 : 1))[0]!;
    return { kind: 'near_duplicate', of: best.id, similarity: best.similarity };
  }
  return { kind: 'original', demote: near.map((n) => ({ id: n.id, similarity: n.similarity })) };
}

function before(a: { id: string; storedAt: Date }, b: { id: string; storedAt: Date }): boolean {
  const d = a.storedAt.getTime() - b.storedAt.getTime();
  return d < 0 || (d === 0 && a.id < b.id);
}
