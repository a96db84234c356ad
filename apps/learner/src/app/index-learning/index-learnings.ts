import type { DataSource } from 'typeorm';
import { counter, type Log } from '@genesis/observability';
import { EmbeddingRefused, type EmbeddingClient, type Embeddings, type VectorIndex } from '@genesis/vectors';
import { decideNearDuplicate } from './near-duplicate';

const indexed = counter('genesis_learnings_indexed_total', 'Learnings embedded and indexed, by outcome', [
  'outcome',
]);
for (const outcome of ['original', 'near_duplicate', 'not_accepted', 'no_text', 'embedding_failed'])
  indexed.inc({ outcome }, 0);

/** Why a learning can never be embedded as it is (learning_embedding_failures, ADR 0018). */
export interface EmbeddingFailure {
  code: string;
  reason: string;
}
/** The embedder refused the learning's text (e.g. blank to the embedder although not to us). */
export const EMBEDDING_REFUSED = 'EMBEDDING_BAD_REQUEST';
/** Context and correction are both blank: there is nothing to embed. */
export const EMBEDDING_NO_TEXT = 'EMBEDDING_NO_TEXT';
/** Neighbours asked of the index per learning (near-duplicates are decided among them). */
const NEIGHBOURS = 10;

interface Row {
  id: string;
  model_id: string;
  context: string | null;
  correction: string | null;
  status: string;
  stored_at: Date;
  vector: Buffer | null;
}

/**
 * Embeds stored learnings, keeps their vectors in Postgres (learning_vectors, the source of truth),
 * mirrors accepted originals into the vector index and marks near-duplicates (ADR 0018).
 *
 * Idempotent and crash-safe: a vector already kept is not embedded again; the database change comes
 * before the index change, and a learning that is no longer accepted (near-duplicate, forgotten,
 * quarantined) is removed from the index whenever it is seen, so a redelivery repairs a crash in
 * between. One model at a time (a Postgres advisory lock): two learner replicas never decide about
 * two near copies at once.
 */
export class IndexLearnings {
  constructor(
    private readonly db: DataSource,
    private readonly index: VectorIndex,
    private readonly embedder: EmbeddingClient,
    private readonly threshold: number,
    private readonly log: Log,
  ) {}

  /**
   * Embeds, keeps and indexes the learnings; returns those the embedder refused (recorded in
   * learning_embedding_failures, so they leave the index lag), for the caller to dead-letter.
   */
  async run(ids: readonly string[]): Promise<Map<string, EmbeddingFailure>> {
    const rows: Row[] = await this.db.query(
      `SELECT l.id, l.model_id, l.context, l.correction, l.status, l.stored_at, v.vector
         FROM learnings l LEFT JOIN learning_vectors v ON v.learning_id = l.id
        WHERE l.id = ANY($1::uuid[])`,
      [ids],
    );
    const gone = ids.filter((id) => !rows.some((r) => r.id === id));
    if (gone.length > 0) await this.index.remove(gone); // deleted (forgotten) since it was stored
    const refused = await this.embedMissing(rows);
    const byModel = new Map<string, Row[]>();
    for (const row of rows) byModel.set(row.model_id, [...(byModel.get(row.model_id) ?? []), row]);
    for (const [model, group] of byModel) await this.withModelLock(model, () => this.decide(group));
    return refused;
  }

  private async embedMissing(rows: Row[]): Promise<Map<string, EmbeddingFailure>> {
    const missing = rows.filter((r) => r.vector === null && r.status === 'accepted');
    const withText = missing.filter((r) => (r.context ?? '').trim() || (r.correction ?? '').trim());
    const failures = new Map<Row, EmbeddingFailure>();
    for (const r of missing) {
      if (withText.includes(r)) continue;
      indexed.inc({ outcome: 'no_text' });
      failures.set(r, {
        code: EMBEDDING_NO_TEXT,
        reason: 'nothing to embed: the context and the correction are blank',
      });
    }
    const { embedded, refused } = await this.embedEach(withText);
    for (const [r, failure] of refused) {
      failures.set(r, failure);
      indexed.inc({ outcome: 'embedding_failed' });
      this.log.warn('the embedder refuses this learning; it stays out of the index', {
        learning_id: r.id,
        model_id: r.model_id,
        reason: failure.reason,
      });
    }
    if (embedded.length > 0) {
      await this.db.query(
        `INSERT INTO learning_vectors (learning_id, model_id, embedding_model, embedding_version, dimensions, vector)
         SELECT r.id, r.model_id, r.embedding_model, r.embedding_version, r.dimensions, decode(r.vector, 'base64')
           FROM json_to_recordset($1::json)
             AS r(id uuid, model_id text, embedding_model text, embedding_version text, dimensions int, vector text)
         ON CONFLICT (learning_id) DO NOTHING`,
        [
          JSON.stringify(
            embedded.map(({ row, with: e }) => ({
              id: row.id,
              model_id: row.model_id,
              embedding_model: e.model,
              embedding_version: e.version,
              dimensions: e.dimensions,
              vector: row.vector!.toString('base64'),
            })),
          ),
        ],
      );
      // Embedded after all (a rescan changed the text, or the embedder changed): no failure any more.
      await this.db.query(`DELETE FROM learning_embedding_failures WHERE learning_id = ANY($1::uuid[])`, [
        embedded.map((e) => e.row.id),
      ]);
    }
    if (failures.size > 0) {
      // Never embeddable as it is: recorded with the reason, which takes it out of the index lag
      // (index-lag.ts) and shows it in the learning's view, instead of lagging forever.
      await this.db.query(
        `INSERT INTO learning_embedding_failures (learning_id, model_id, code, reason)
         SELECT r.id, r.model_id, r.code, r.reason
           FROM json_to_recordset($1::json) AS r(id uuid, model_id text, code text, reason text)
         ON CONFLICT (learning_id) DO UPDATE
           SET code = EXCLUDED.code, reason = EXCLUDED.reason, failed_at = now()`,
        [JSON.stringify([...failures].map(([r, f]) => ({ id: r.id, model_id: r.model_id, ...f })))],
      );
    }
    return new Map([...refused].map(([r, f]) => [r.id, f]));
  }

  /**
   * One request for the batch; when the embedder refuses it, one request per learning, so that
   * one learning it can never take does not fail the others of its batch with it.
   */
  private async embedEach(
    rows: Row[],
  ): Promise<{ embedded: { row: Row; with: Embeddings }[]; refused: Map<Row, EmbeddingFailure> }> {
    const embedded: { row: Row; with: Embeddings }[] = [];
    const refused = new Map<Row, EmbeddingFailure>();
    if (rows.length === 0) return { embedded, refused };
    const attempt = async (group: Row[]): Promise<boolean> => {
      let result: Embeddings;
      try {
        result = await this.embedder.learnings(group);
      } catch (err) {
        if (!(err instanceof EmbeddingRefused)) throw err; // no answer: transient, redelivered later
        if (group.length === 1) refused.set(group[0]!, { code: EMBEDDING_REFUSED, reason: err.message });
        return false;
      }
      if (result.vectors.length !== group.length) {
        throw new Error(
          `the embedder returned ${result.vectors.length} vectors for ${group.length} learnings`,
        );
      }
      group.forEach((r, i) => {
        r.vector = Buffer.from(Float32Array.from(result.vectors[i]!).buffer);
        embedded.push({ row: r, with: result });
      });
      return true;
    };
    if (!(await attempt(rows)) && rows.length > 1) for (const r of rows) await attempt([r]);
    return { embedded, refused };
  }

  private async decide(rows: Row[]): Promise<void> {
    for (const row of rows) {
      // The status may have changed since the batch was read (another replica, a forget).
      const [current] = await this.db.query(`SELECT status FROM learnings WHERE id = $1`, [row.id]);
      if (current?.status !== 'accepted' || row.vector === null) {
        await this.index.remove([row.id]);
        if (row.vector !== null) indexed.inc({ outcome: 'not_accepted' });
        continue;
      }
      const vector = Array.from(floats(row.vector));
      const hits = await this.index.search({
        modelId: row.model_id,
        vector,
        k: NEIGHBOURS,
        exclude: [row.id],
      });
      const candidates = hits.filter((h) => h.similarity >= this.threshold);
      const neighbours: { id: string; stored_at: Date }[] = candidates.length
        ? await this.db.query(
            `SELECT id, stored_at FROM learnings WHERE id = ANY($1::uuid[]) AND status = 'accepted'`,
            [candidates.map((c) => c.id)],
          )
        : [];
      const decision = decideNearDuplicate(
        { id: row.id, storedAt: row.stored_at },
        neighbours.map((n) => ({
          id: n.id,
          storedAt: n.stored_at,
          similarity: candidates.find((c) => c.id === n.id)!.similarity,
        })),
        this.threshold,
      );
      if (decision.kind === 'near_duplicate') {
        await this.markNearDuplicate(row.id, decision.of, decision.similarity);
        await this.index.remove([row.id]);
        indexed.inc({ outcome: 'near_duplicate' });
        this.log.info('near-duplicate learning', {
          learning_id: row.id,
          near_duplicate_of: decision.of,
          similarity: decision.similarity,
        });
        continue;
      }
      await this.index.upsert([{ id: row.id, modelId: row.model_id, vector }]);
      // In the index now: no longer part of the lag (index-lag.ts).
      await this.db.query(`UPDATE learning_vectors SET indexed_at = now() WHERE learning_id = $1`, [row.id]);
      for (const d of decision.demote) {
        await this.markNearDuplicate(d.id, row.id, d.similarity);
        await this.index.remove([d.id]);
        indexed.inc({ outcome: 'near_duplicate' });
      }
      indexed.inc({ outcome: 'original' });
    }
  }

  private async markNearDuplicate(id: string, of: string, similarity: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE learnings SET status = 'near_duplicate', duplicate_of = $2 WHERE id = $1 AND status = 'accepted'`,
        [id, of],
      );
      await tx.query(
        `UPDATE learning_vectors SET near_duplicate_of = $2, similarity = $3 WHERE learning_id = $1`,
        [id, of, similarity],
      );
    });
  }

  private async withModelLock(model: string, work: () => Promise<void>): Promise<void> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`genesis-vectors:${model}`]);
      try {
        await work();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`genesis-vectors:${model}`]);
      }
    } finally {
      await runner.release();
    }
  }
}

/** A float32 view of a bytea (copied when pg's buffer is not 4-byte aligned). */
export function floats(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
