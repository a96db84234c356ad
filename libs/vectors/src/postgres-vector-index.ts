import type { DataSource } from 'typeorm';
import {
  VectorIndexError,
  checkSearch,
  normalise,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
  type VectorSearch,
} from './vector-index';

/**
 * The embedded default: vectors in a Postgres table (`vector_index`, migration 1764300000000) and an
 * exact top-k scan in this process. Needs nothing beyond the Postgres Genesis already runs (pgvector
 * is not in Debian's sources here). Vectors are stored normalised as float32 (bytea), so a query is
 * one indexed read of the model's rows and a dot product each; `npm run bench` measures how far that
 * stays fast (ADR 0018), past which GENESIS_VECTOR_STORE=weaviate is the answer.
 */
export class PostgresVectorIndex implements VectorIndex {
  readonly kind = 'postgres';

  constructor(private readonly db: DataSource) {}

  async ping(): Promise<void> {
    try {
      await this.db.query(`SELECT 1 FROM vector_index LIMIT 1`);
    } catch (err) {
      throw new VectorIndexError('VECTOR_INDEX_UNAVAILABLE', `postgres: ${(err as Error).message}`);
    }
  }

  async ensure(): Promise<void> {
    // The table is created by the migrations; reading it proves they ran.
    await this.db.query(`SELECT 1 FROM vector_index LIMIT 1`);
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    if (records.length === 0) return;
    const dims = await this.dimensions();
    const rows = records.map((r) => {
      if (dims !== undefined && r.vector.length !== dims) {
        throw new VectorIndexError(
          'VECTOR_DIMENSION_MISMATCH',
          `the index holds ${dims}-dimensional vectors; ${r.id} has ${r.vector.length}`,
        );
      }
      return { id: r.id, model_id: r.modelId, vector: Buffer.from(normalise(r.vector).buffer) };
    });
    const first = rows[0]!.vector.length / 4;
    if (rows.some((r) => r.vector.length / 4 !== first)) {
      throw new VectorIndexError('VECTOR_DIMENSION_MISMATCH', 'vectors of one upsert differ in dimension');
    }
    await this.db.query(
      `INSERT INTO vector_index (id, model_id, dimensions, vector)
       SELECT r.id, r.model_id, $2, decode(r.vector, 'base64')
         FROM json_to_recordset($1::json) AS r(id uuid, model_id text, vector text)
       ON CONFLICT (id) DO UPDATE SET model_id = excluded.model_id, dimensions = excluded.dimensions,
         vector = excluded.vector, updated_at = now()`,
      [
        JSON.stringify(
          rows.map((r) => ({ id: r.id, model_id: r.model_id, vector: r.vector.toString('base64') })),
        ),
        first,
      ],
    );
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`DELETE FROM vector_index WHERE id = ANY($1::uuid[])`, [ids]);
  }

  async search(query: VectorSearch): Promise<VectorHit[]> {
    checkSearch(query);
    const q = normalise(query.vector);
    const exclude = new Set(query.exclude ?? []);
    const rows: { id: string; dimensions: number; vector: Buffer }[] = await this.db.query(
      `SELECT id, dimensions, vector FROM vector_index WHERE model_id = $1`,
      [query.modelId],
    );
    // Exact scan keeping the k best in a small sorted array (k is small; n is what the bench measures).
    const best: VectorHit[] = [];
    for (const row of rows) {
      if (exclude.has(row.id)) continue;
      if (row.dimensions !== q.length) {
        throw new VectorIndexError(
          'VECTOR_DIMENSION_MISMATCH',
          `the index holds ${row.dimensions}-dimensional vectors; the query has ${q.length}`,
        );
      }
      const v = floats(row.vector, row.dimensions);
      let dot = 0;
      for (let i = 0; i < q.length; i++) dot += q[i]! * v[i]!;
      if (best.length < query.k || dot > best[best.length - 1]!.similarity) {
        let at = best.length;
        while (at > 0 && best[at - 1]!.similarity < dot) at--;
        best.splice(at, 0, { id: row.id, similarity: dot });
        if (best.length > query.k) best.pop();
      }
    }
    return best;
  }

  async count(modelId?: string): Promise<number> {
    const [row] = await this.db.query(
      modelId === undefined
        ? `SELECT count(*)::int AS n FROM vector_index`
        : `SELECT count(*)::int AS n FROM vector_index WHERE model_id = $1`,
      modelId === undefined ? [] : [modelId],
    );
    return (row as { n: number }).n;
  }

  async clear(): Promise<void> {
    await this.db.query(`TRUNCATE vector_index`);
  }

  async close(): Promise<void> {
    // The DataSource belongs to the caller.
  }

  private async dimensions(): Promise<number | undefined> {
    const [row] = await this.db.query(`SELECT dimensions FROM vector_index LIMIT 1`);
    return (row as { dimensions: number } | undefined)?.dimensions;
  }
}

/** A float32 view of a bytea (copied when pg's buffer is not 4-byte aligned). */
function floats(bytes: Buffer, dimensions: number): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, dimensions);
  const copy = new Uint8Array(dimensions * 4);
  copy.set(bytes.subarray(0, dimensions * 4));
  return new Float32Array(copy.buffer);
}
