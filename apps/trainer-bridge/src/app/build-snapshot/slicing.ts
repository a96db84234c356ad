import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { ClusterReply, ClusterRequest } from '@genesis/vectors';

/**
 * Topic slices of a snapshot (ADR 0020). The Python embedder clusters a bounded, deterministic
 * sample of the model's learnings (`embeddings.cluster`: k-means, k by silhouette, seeded); here
 * every embedded learning of the snapshot is then assigned to its nearest centroid, so the sample
 * bounds the request (NATS' 1 MB payload: about 300 learnings with their text) but not who gets a
 * slice. The result is content-addressed: the same learnings and vectors give the same version.
 */
export interface SlicingSettings {
  /** Learnings sent to the embedder at most (chosen by the hash of their id). */
  sample: number;
  maxK: number;
  /** Learnings per slice on average at least: k ≤ embedded learnings / minSize. */
  minSize: number;
  minSilhouette: number;
  seed: number;
  /** How long the embedder may take to answer. */
  timeoutMs: number;
}

export interface SliceLearning {
  id: string;
  context: string | null;
  correction: string;
}

export interface SliceAssignment {
  learning_id: string;
  slice_id: string;
  slice_label: string;
}

/** dataset_snapshots.slicing: what the snapshot's slicing was, or why it has none. */
export type SnapshotSlicing =
  | {
      status: 'sliced';
      version: string;
      method: string;
      k: number;
      silhouette: number | null;
      scores: Record<string, number>;
      sample: number;
      sliced: number;
      /** Learnings without an embedding of the sample's dimension: in no slice. */
      unsliced: number;
      slices: { slice_id: string; label: string; size: number }[];
    }
  | { status: 'none'; reason: string };

/** The text the labels are made of: what the correction says, in its context (as the embedder's). */
const LABEL_TEXT_CHARS = 300;
const labelText = (l: SliceLearning) =>
  `${l.context ?? ''}\n${l.correction}`.trim().slice(0, LABEL_TEXT_CHARS);
const rank = (id: string) => createHash('sha256').update(`genesis-slices:${id}`).digest('hex');
const b64 = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

function decode(b: string): Float32Array {
  const bytes = Buffer.from(b, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return v.map((x) => x / norm);
}

/** Below NATS' default 1 MB max_payload, with room for the envelope of the request. */
export const MAX_REQUEST_BYTES = 900_000;

/**
 * The sample and its request: the most common dimension only, `sample` learnings by id hash, fewer
 * when their text is so long (multi-byte characters) that the request would pass MAX_REQUEST_BYTES.
 */
export function clusterRequest(
  learnings: readonly SliceLearning[],
  vectors: ReadonlyMap<string, Float32Array>,
  s: SlicingSettings,
): { request: ClusterRequest; dimension: number } | null {
  const dims = new Map<number, number>();
  for (const l of learnings) {
    const v = vectors.get(l.id);
    if (v) dims.set(v.length, (dims.get(v.length) ?? 0) + 1);
  }
  if (dims.size === 0) return null;
  const dimension = [...dims.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  const embedded = learnings.filter((l) => vectors.get(l.id)?.length === dimension);
  const ranked = embedded
    .map((l) => ({ l, r: rank(l.id) }))
    .sort((a, b) => (a.r < b.r ? -1 : 1))
    .slice(0, s.sample)
    .map(({ l }) => ({ id: l.id, vector: b64(vectors.get(l.id)!), text: labelText(l) }));
  let bytes = 200;
  const sample = ranked.filter(
    (item) => (bytes += Buffer.byteLength(JSON.stringify(item)) + 1) <= MAX_REQUEST_BYTES,
  );
  return {
    request: {
      items: sample,
      population: embedded.length,
      max_k: s.maxK,
      min_size: s.minSize,
      min_silhouette: s.minSilhouette,
      seed: s.seed,
    },
    dimension,
  };
}

/**
 * Every learning with a vector of the clustering's dimension → the slice of its nearest centroid
 * (Euclidean on unit vectors, as k-means measures it; ties to the lower slice id).
 */
export function assignSlices(
  learnings: readonly SliceLearning[],
  vectors: ReadonlyMap<string, Float32Array>,
  reply: ClusterReply,
  sampled: number,
): { assignments: SliceAssignment[]; slicing: SnapshotSlicing } {
  const centroids = reply.centroids.map(decode);
  const dimension = centroids[0]?.length ?? 0;
  if (centroids.length !== reply.slices.length || centroids.some((c) => c.length !== dimension))
    throw new Error('the embedder answered centroids that do not match its slices');
  const assignments: SliceAssignment[] = [];
  let unsliced = 0;
  for (const l of learnings) {
    const raw = vectors.get(l.id);
    if (!raw || raw.length !== dimension) {
      unsliced++;
      continue;
    }
    const v = unit(raw);
    let best = 0;
    let bestDistance = Infinity;
    centroids.forEach((c, i) => {
      let d = 0;
      for (let j = 0; j < dimension; j++) d += (v[j]! - c[j]!) ** 2;
      if (d < bestDistance) [best, bestDistance] = [i, d];
    });
    const slice = reply.slices[best]!;
    assignments.push({ learning_id: l.id, slice_id: slice.slice_id, slice_label: slice.label });
  }
  assignments.sort((a, b) => (a.learning_id < b.learning_id ? -1 : 1));
  const version = `${reply.method}:${createHash('sha256')
    .update(assignments.map((a) => `${a.learning_id} ${a.slice_id} ${a.slice_label}`).join('\n'))
    .digest('hex')
    .slice(0, 24)}`;
  const size = (id: string) => assignments.filter((a) => a.slice_id === id).length;
  return {
    assignments,
    slicing: {
      status: 'sliced',
      version,
      method: reply.method,
      k: reply.k,
      silhouette: reply.silhouette,
      scores: reply.scores,
      sample: sampled,
      sliced: assignments.length,
      unsliced,
      slices: reply.slices.map((s) => ({ slice_id: s.slice_id, label: s.label, size: size(s.slice_id) })),
    },
  };
}

/** Keeps a slicing's assignments (learning_slices); idempotent: a version's rows never change. */
export async function storeSlices(
  m: EntityManager,
  modelId: string,
  slicing: SnapshotSlicing,
  assignments: readonly SliceAssignment[],
): Promise<void> {
  if (slicing.status !== 'sliced' || assignments.length === 0) return;
  await m.query(
    `INSERT INTO learning_slices (clustering_version, learning_id, model_id, slice_id, slice_label)
     SELECT $1, x.learning_id, $2, x.slice_id, x.slice_label
     FROM json_to_recordset($3) AS x(learning_id uuid, slice_id text, slice_label text)
     ON CONFLICT (clustering_version, learning_id) DO NOTHING`,
    [slicing.version, modelId, JSON.stringify(assignments)],
  );
}

/** The snapshot reason's clause on its slices. */
export function describeSlicing(s: SnapshotSlicing): string {
  if (s.status === 'none') return `no topic slices (${s.reason})`;
  const labels = s.slices.map((x) => `${x.slice_id} "${x.label}" ${x.size}`).join(', ');
  return `${s.k} topic slice${s.k === 1 ? '' : 's'} (${labels}${s.unsliced ? `; ${s.unsliced} unsliced` : ''})`;
}
