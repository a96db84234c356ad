import type { DataSource } from 'typeorm';
import type { VectorIndex } from './vector-index';

export interface RebuildReport {
  store: string;
  /** Vectors written to the index (accepted learnings with a stored embedding). */
  indexed: number;
  /**
   * Accepted learnings without an embedding yet (the learner embeds them as it catches up); those
   * the embedder refused (learning_embedding_failures) never will, and are not counted.
   */
  missing_vectors: number;
  by_model: Record<string, number>;
  took_ms: number;
}

/**
 * Rebuilds the index from Postgres, its source of truth (ADR 0018): clears it, then writes the
 * vector of every accepted learning, in batches. Near-duplicates, quarantined and forgotten
 * learnings are not accepted, so they end up absent. Safe to repeat; concurrent indexing by the
 * learner is idempotent with it (both write the same vectors under the same ids).
 */
export async function rebuildIndex(
  db: DataSource,
  index: VectorIndex,
  batchSize = 500,
): Promise<RebuildReport> {
  const started = Date.now();
  await index.ensure();
  await index.clear();
  const byModel: Record<string, number> = {};
  let after = '00000000-0000-0000-0000-000000000000';
  let indexed = 0;
  for (;;) {
    const rows: { id: string; model_id: string; vector: Buffer }[] = await db.query(
      `SELECT l.id, l.model_id, v.vector FROM learnings l JOIN learning_vectors v ON v.learning_id = l.id
        WHERE l.status = 'accepted' AND l.id > $1 ORDER BY l.id LIMIT $2`,
      [after, batchSize],
    );
    if (rows.length === 0) break;
    await index.upsert(
      rows.map((r) => {
        const copy = new Uint8Array(r.vector.length);
        copy.set(r.vector);
        return { id: r.id, modelId: r.model_id, vector: Array.from(new Float32Array(copy.buffer)) };
      }),
    );
    // Rewritten to the index: not part of the learner's index lag (ADR 0018).
    await db.query(`UPDATE learning_vectors SET indexed_at = now() WHERE learning_id = ANY($1::uuid[])`, [
      rows.map((r) => r.id),
    ]);
    for (const r of rows) byModel[r.model_id] = (byModel[r.model_id] ?? 0) + 1;
    indexed += rows.length;
    after = rows[rows.length - 1]!.id;
  }
  const [{ n }] = await db.query(
    `SELECT count(*)::int AS n FROM learnings l
      WHERE l.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM learning_vectors v WHERE v.learning_id = l.id)
        AND NOT EXISTS (SELECT 1 FROM learning_embedding_failures f WHERE f.learning_id = l.id)`,
  );
  return { store: index.kind, indexed, missing_vectors: n, by_model: byModel, took_ms: Date.now() - started };
}
