import type { EntityManager } from 'typeorm';

/**
 * Semantic decontamination (ADR 0018): no training record may be semantically near an item of the
 * frozen in-domain eval set, or a reworded copy of a held-out item would teach the model its own
 * test. A separate filter from the exact (content) decontamination: it runs on the learnings' stored
 * embeddings (learning_vectors), before the snapshot is built.
 */
export interface Embedded {
  id: string;
  /** Unit vector (the embedder normalises); null while the learning has not been embedded yet. */
  vector: Float32Array | null;
}

export interface SemanticExclusion {
  id: string;
  /** The eval item it is near. */
  near: string;
  similarity: number;
  reason: 'near_eval_item';
}

export interface DecontaminationResult {
  excluded: SemanticExclusion[];
  /** Candidates without an embedding (not judged: the exact filters still apply to them). */
  unchecked: number;
}

/** Pure: which candidates lie within `threshold` (cosine) of any eval item. */
export function semanticDecontamination(
  candidates: readonly Embedded[],
  evalItems: readonly Embedded[],
  threshold: number,
): DecontaminationResult {
  const evals = evalItems.filter((e): e is Embedded & { vector: Float32Array } => e.vector !== null);
  const excluded: SemanticExclusion[] = [];
  let unchecked = 0;
  for (const c of candidates) {
    if (c.vector === null) {
      unchecked++;
      continue;
    }
    let best: { id: string; similarity: number } | undefined;
    for (const e of evals) {
      if (e.vector.length !== c.vector.length) continue; // another embedding model: not comparable
      let dot = 0;
      for (let i = 0; i < c.vector.length; i++) dot += c.vector[i]! * e.vector[i]!;
      if (!best || dot > best.similarity) best = { id: e.id, similarity: dot };
    }
    if (best && best.similarity >= threshold) {
      excluded.push({
        id: c.id,
        near: best.id,
        similarity: Math.round(best.similarity * 10_000) / 10_000,
        reason: 'near_eval_item',
      });
    }
  }
  return { excluded, unchecked };
}

/** The stored embeddings of these learnings (absent ones: null). */
export async function loadEmbeddings(
  db: EntityManager,
  ids: readonly string[],
): Promise<Map<string, Float32Array>> {
  const rows: { learning_id: string; vector: Buffer }[] = ids.length
    ? await db.query(`SELECT learning_id, vector FROM learning_vectors WHERE learning_id = ANY($1::uuid[])`, [
        ids,
      ])
    : [];
  return new Map(
    rows.map((r) => {
      const copy = new Uint8Array(r.vector.length);
      copy.set(r.vector);
      return [r.learning_id, new Float32Array(copy.buffer)];
    }),
  );
}
