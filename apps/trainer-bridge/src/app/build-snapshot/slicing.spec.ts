import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterReply } from '@genesis/vectors';
import {
  MAX_REQUEST_BYTES,
  assignSlices,
  clusterRequest,
  describeSlicing,
  type SlicingSettings,
} from './slicing';

const settings: SlicingSettings = {
  sample: 3,
  maxK: 8,
  minSize: 2,
  minSilhouette: 0.05,
  seed: 0,
  timeoutMs: 1000,
};
const b64 = (xs: number[]) => Buffer.from(new Float32Array(xs).buffer).toString('base64');
const learning = (id: string) => ({ id, context: `context of ${id}`, correction: `fix ${id}` });

describe('snapshot slicing', () => {
  const learnings = ['a', 'b', 'c', 'd', 'e'].map(learning);
  const vectors = new Map<string, Float32Array>([
    ['a', new Float32Array([1, 0])],
    ['b', new Float32Array([0.9, 0.1])],
    ['c', new Float32Array([0, 1])],
    ['d', new Float32Array([0.2, 0.8])],
    ['x', new Float32Array([1, 0, 0])],
  ]);

  it('sends a bounded sample chosen by id hash, of one dimension, whatever the input order', () => {
    const asked = clusterRequest(learnings, vectors, settings)!;
    assert.equal(asked.dimension, 2);
    assert.equal(asked.request.items.length, 3);
    assert.ok(asked.request.items.every((i) => ['a', 'b', 'c', 'd'].includes(i.id)));
    const again = clusterRequest([...learnings].reverse(), vectors, settings)!;
    assert.deepEqual(again.request, asked.request);
    assert.equal(asked.request.min_size, 2);
    assert.equal(clusterRequest(learnings, new Map(), settings), null, 'nothing embedded: nothing to ask');
  });

  it('keeps the request under the NATS payload limit however long the texts are', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      id: `l${i}`,
      context: '😀'.repeat(400),
      correction: 'x',
    }));
    const wide = new Map(many.map((l) => [l.id, new Float32Array(384).fill(0.05)]));
    const asked = clusterRequest(many, wide, { ...settings, sample: 400 })!;
    const size = Buffer.byteLength(JSON.stringify(asked.request));
    assert.ok(size <= MAX_REQUEST_BYTES, `${size} bytes`);
    assert.ok(asked.request.items.length > 100 && asked.request.items.length < 400);
    assert.equal(asked.request.population, 400, 'the k rule still counts every learning');
  });

  it('assigns every embedded learning to its nearest centroid and counts the rest as unsliced', () => {
    const reply: ClusterReply = {
      method: 'kmeans-silhouette.v1',
      k: 2,
      silhouette: 0.6,
      scores: { '2': 0.6 },
      slices: [
        { slice_id: 's1', label: 'alpha', members: ['a', 'b'] },
        { slice_id: 's2', label: 'beta', members: ['c'] },
      ],
      centroids: [b64([0.99, 0.05]), b64([0.05, 0.99])],
    };
    const { assignments, slicing } = assignSlices(learnings, vectors, reply, 3);
    assert.deepEqual(
      assignments.map((a) => [a.learning_id, a.slice_id, a.slice_label]),
      [
        ['a', 's1', 'alpha'],
        ['b', 's1', 'alpha'],
        ['c', 's2', 'beta'],
        ['d', 's2', 'beta'], // not in the sample, assigned by its nearest centroid
      ],
    );
    assert.equal(slicing.status, 'sliced');
    if (slicing.status !== 'sliced') return;
    assert.equal(slicing.unsliced, 1, 'e has no vector');
    assert.deepEqual(
      slicing.slices.map((s) => [s.slice_id, s.size]),
      [
        ['s1', 2],
        ['s2', 2],
      ],
    );
    assert.match(slicing.version, /^kmeans-silhouette\.v1:[0-9a-f]{24}$/);
    // Content-addressed: same assignment, same version; another assignment, another version.
    const same = assignSlices([...learnings].reverse(), vectors, reply, 3).slicing;
    assert.equal(same.status === 'sliced' && same.version, slicing.version);
    const swapped = assignSlices(
      learnings,
      vectors,
      { ...reply, centroids: [...reply.centroids].reverse() },
      3,
    ).slicing;
    assert.notEqual(swapped.status === 'sliced' && swapped.version, slicing.version);
    assert.equal(describeSlicing(slicing), '2 topic slices (s1 "alpha" 2, s2 "beta" 2; 1 unsliced)');
  });

  it('refuses centroids that do not match the slices', () => {
    const reply: ClusterReply = {
      method: 'kmeans-silhouette.v1',
      k: 2,
      silhouette: 0.6,
      scores: {},
      slices: [{ slice_id: 's1', label: 'alpha', members: [] }],
      centroids: [b64([1, 0]), b64([0, 1])],
    };
    assert.throws(() => assignSlices(learnings, vectors, reply, 3), /do not match its slices/);
  });
});
