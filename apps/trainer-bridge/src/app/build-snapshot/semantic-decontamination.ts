import type { EntityManager } from 'typeorm';

/**
 * Semantic decontamination (ADR 0018): no training record may be semantically near an item of the
 * frozen evaluation suites — the in-domain held-out set and the shipped regression and anchor suites
 * (regression.v1, HumanEval: suite-vectors.ts) — or a reworded copy of a test item would teach the
 * model its own test. A separate filter from the exact (content) decontamination: it runs on the
 * learnings' stored embeddings (learning_vectors), before the snapshot is built.
 */
export interface Embedded {
  id: string;
  /** Unit vector (the embedder normalises); null while the learning has not been embedded yet. */
  vector: Float32Array | null;
}

/** The in-domain held-out set: its items are learnings (ids are learning ids). */
export const IN_DOMAIN = 'in-domain';

/** An item of a frozen suite: `suite` is IN_DOMAIN (the default) or a shipped suite's name. */
export interface EvalItem extends Embedded {
  suite?: string;
}

export interface SemanticExclusion {
  id: string;
  /** The eval item it is near (a learning id in-domain, an item id such as HumanEval/0 otherwise). */
  near: string;
  /** The suite of that item. */
  suite: string;
  similarity: number;
  /** near_eval_item: an in-domain held-out item; near_regression_item: a shipped suite's item. */
  reason: 'near_eval_item' | 'near_regression_item';
}

export interface DecontaminationResult {
  excluded: SemanticExclusion[];
  /** Candidates without an embedding (not judged: the exact filters still apply to them). */
  unchecked: number;
  /** Exclusions per suite: in-domain and every suite compared against (0 when it left none out). */
  by_suite: Record<string, number>;
}

/** Pure: which candidates lie within `threshold` (cosine) of any eval item (the nearest one is named). */
export function semanticDecontamination(
  candidates: readonly Embedded[],
  evalItems: readonly EvalItem[],
  threshold: number,
): DecontaminationResult {
  const evals = evalItems.filter((e): e is EvalItem & { vector: Float32Array } => e.vector !== null);
  const excluded: SemanticExclusion[] = [];
  const bySuite: Record<string, number> = { [IN_DOMAIN]: 0 }; // listed even when nothing is held out
  for (const e of evalItems) bySuite[e.suite ?? IN_DOMAIN] = 0;
  let unchecked = 0;
  for (const c of candidates) {
    if (c.vector === null) {
      unchecked++;
      continue;
    }
    let best: { id: string; suite: string; similarity: number } | undefined;
    for (const e of evals) {
      if (e.vector.length !== c.vector.length) continue; // another embedding model: not comparable
      let dot = 0;
      for (let i = 0; i < c.vector.length; i++) dot += c.vector[i]! * e.vector[i]!;
      if (!best || dot > best.similarity) best = { id: e.id, suite: e.suite ?? IN_DOMAIN, similarity: dot };
    }
    if (best && best.similarity >= threshold) {
      excluded.push({
        id: c.id,
        near: best.id,
        suite: best.suite,
        similarity: Math.round(best.similarity * 10_000) / 10_000,
        reason: best.suite === IN_DOMAIN ? 'near_eval_item' : 'near_regression_item',
      });
      bySuite[best.suite] = (bySuite[best.suite] ?? 0) + 1;
    }
  }
  return { excluded, unchecked, by_suite: bySuite };
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
  return new Map(rows.map((r) => [r.learning_id, floats(r.vector)]));
}

/** A bytea of float32s as a Float32Array (copied: a Buffer's offset need not be aligned). */
export function floats(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** The embedding model most of these learnings were embedded with (undefined: none embedded). */
export async function dominantEmbeddingModel(
  db: EntityManager,
  ids: readonly string[],
): Promise<{ model: string; version: string } | undefined> {
  if (ids.length === 0) return undefined;
  const [row] = await db.query<{ embedding_model: string; embedding_version: string }[]>(
    `SELECT embedding_model, embedding_version FROM learning_vectors WHERE learning_id = ANY($1::uuid[])
      GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1`,
    [ids],
  );
  return row ? { model: row.embedding_model, version: row.embedding_version } : undefined;
}
