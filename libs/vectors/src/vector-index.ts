/**
 * The vector index port (ADR 0018): nearest learnings by cosine similarity, per model.
 *
 * The index is derived data: Postgres (`learning_vectors`) keeps every embedding, and the index can
 * be rebuilt from it at any time (`genesis vectors rebuild`). Contract, the same for every adapter
 * (libs/vectors/test/vector-index.contract.ts runs it against each):
 *   - upsert is idempotent by id: writing a record again replaces it, never duplicates it;
 *   - remove is idempotent: removing an absent id is not an error;
 *   - search returns at most k hits of the given model only, best first, with
 *     similarity = cosine(query, vector) in [-1, 1]; vectors need not be normalised;
 *   - every vector of one index has the same dimension; another one is refused (VectorIndexError).
 */
export interface VectorRecord {
  /** The learning's id (a uuid). */
  id: string;
  modelId: string;
  vector: readonly number[];
}

export interface VectorHit {
  id: string;
  similarity: number;
}

export interface VectorSearch {
  modelId: string;
  vector: readonly number[];
  k: number;
  /** Ids never returned (e.g. the learning whose neighbours are asked for). */
  exclude?: readonly string[];
}

export interface VectorIndex {
  /** `postgres` or `weaviate`: for logs, metrics and the readiness check. */
  readonly kind: string;
  /**
   * Resolves when the index answers, throws (VECTOR_INDEX_UNAVAILABLE) when it does not: the
   * learner's readiness (ADR 0018: `degraded`, never down, since capture does not need the index).
   */
  ping(): Promise<void>;
  /** Creates what the index needs (table, collection) if it is missing. Safe to call again. */
  ensure(): Promise<void>;
  upsert(records: readonly VectorRecord[]): Promise<void>;
  remove(ids: readonly string[]): Promise<void>;
  search(query: VectorSearch): Promise<VectorHit[]>;
  /** Vectors held, for one model or all. */
  count(modelId?: string): Promise<number>;
  /** Drops every vector (before a rebuild). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export type VectorIndexErrorCode =
  'VECTOR_DIMENSION_MISMATCH' | 'VECTOR_INVALID' | 'VECTOR_INDEX_UNAVAILABLE';

export class VectorIndexError extends Error {
  constructor(
    readonly code: VectorIndexErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VectorIndexError';
  }
}

/** The vector scaled to length 1 (cosine similarity becomes a dot product); refuses NaN and zero. */
export function normalise(vector: readonly number[]): Float32Array {
  let sum = 0;
  for (const x of vector) {
    if (!Number.isFinite(x))
      throw new VectorIndexError('VECTOR_INVALID', 'a vector holds a non-finite number');
    sum += x * x;
  }
  if (sum === 0) throw new VectorIndexError('VECTOR_INVALID', 'a zero vector has no direction');
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

export function checkSearch(query: VectorSearch): void {
  if (!Number.isInteger(query.k) || query.k < 1 || query.k > 1000) {
    throw new VectorIndexError('VECTOR_INVALID', `k must be an integer in 1..1000 (got ${query.k})`);
  }
}
