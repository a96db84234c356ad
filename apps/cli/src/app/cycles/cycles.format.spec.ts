import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEvaluation, formatSlices } from './cycles.format';

describe('an evaluation as `genesis cycles show` prints it', () => {
  it('lists every slice with its items, accuracies, delta, adjusted p and status', () => {
    const lines = formatEvaluation({
      decision: 'reject',
      reason: 'reject: … slice_regression: slice s2 …',
      slices: {
        enabled: true,
        alpha: 0.05,
        clustering_version: 'kmeans-silhouette.v1:abc',
        unsliced_items: 1,
        slices: [
          {
            slice_id: 's1',
            label: 'cur, execute, sql',
            items: 20,
            champion_accuracy: 0.15,
            candidate_accuracy: 0.9,
            delta: 0.75,
            adjusted_p: 1,
            status: 'ok',
          },
          {
            slice_id: 's2',
            label: 'requests, get, url',
            items: 12,
            champion_accuracy: 1,
            candidate_accuracy: 0.1667,
            delta: -0.8333,
            adjusted_p: 0.0029,
            status: 'regressed',
          },
          {
            slice_id: 's3',
            label: 'path, open',
            items: 3,
            champion_accuracy: 1,
            candidate_accuracy: 0,
            delta: -1,
            adjusted_p: null,
            status: 'too_small',
          },
        ],
      },
    });
    const text = lines.join('\n');
    assert.match(text, /slices \(Holm, α=0\.05\)/);
    assert.match(text, /s2\s+requests, get, url\s+12\s+1 → 0\.167\s+-0\.833\s+0\.0029\s+regressed/);
    assert.match(text, /s3\s+path, open\s+3\s+1 → 0\s+-1\s+—\s+too_small/);
    assert.match(text, /1 in-domain items in no slice/);
  });

  it('says why there are no slices, and prints nothing for evaluations from before slices', () => {
    assert.deepEqual(formatSlices({ clustering_version: null, note: 'embedder down' }), [
      '  slices  none (embedder down)',
    ]);
    assert.deepEqual(formatSlices(null), []);
  });
});
