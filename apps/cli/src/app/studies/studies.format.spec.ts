import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatStudy, formatStudyList } from './studies.format';
import type { StudyDetail } from './study';

const study: StudyDetail = {
  id: '0196aaaa-0000-7000-8000-000000000001',
  study: 'genesis-0196',
  status: 'completed',
  cycle_id: '0196aaaa-0000-7000-8000-0000000000c1',
  cycle_status: 'deployed',
  candidate_version: 'genesis-20261205-013000',
  budget: { trials: 3, worker_seconds: 600 },
  pruned: 1,
  best: { trial: 2, value: 0.1626, hyperparameters: { lora_r: 16, learning_rate: 0.01 } },
  adopted: true,
  created_at: '2026-12-05T01:00:00.000Z',
  model_id: 'genesis',
  counts: { complete: 2, pruned: 1, fail: 0 },
  spent: { trials: 3, worker_seconds: 42.5 },
  validation: { train_records: 57, validation_records: 14, suite_excluded: 0 },
  importance: { values: null, reason: '1 complete trial(s); importance needs at least 2' },
  trials: [
    { number: 0, state: 'complete', value: 7.63, params: { learning_rate: 1e-6, lora_r: 16 } },
    { number: 1, state: 'pruned', value: null, params: { learning_rate: 0.002 }, pruned_at_step: 50 },
    { number: 2, state: 'complete', value: 0.1626, params: { learning_rate: 0.01, lora_r: 16 } },
  ],
  failure: null,
};

describe('genesis studies', () => {
  it('shows the counts, the best, why there is no importance, and every trial with its state', () => {
    const lines = formatStudy(study);
    assert.ok(lines.includes('trials: 2 complete, 1 pruned, 0 failed'), lines.join('\n'));
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith('best: trial #2, validation loss 0.1626') &&
          l.includes('[the training configuration now]'),
      ),
    );
    assert.ok(lines.includes('importance: — (1 complete trial(s); importance needs at least 2)'));
    assert.ok(lines.includes('  #0  complete  loss 7.63  learning_rate=1.00e-6 lora_r=16'), lines.join('\n'));
    assert.ok(lines.includes('  #1  pruned at step 50  loss —  learning_rate=0.002'), lines.join('\n'));
  });

  it('shows the live progress: trials in flight, failed trial jobs, the budget that ended it, who ran each trial', () => {
    const lines = formatStudy({
      ...study,
      progress: {
        parallelism: 2,
        trials_finished: 3,
        trials_complete: 2,
        trials_pruned: 1,
        trials_failed: 1,
        trials_running: 0,
        worker_seconds_spent: 42.5,
        best_trial: 2,
        best_value: 0.1626,
        stopped_by: 'trials',
      },
      trials: [{ number: 0, state: 'complete', value: 7.63, params: { lora_r: 16 }, worker_id: 'worker-a' }],
    });
    assert.ok(
      lines.includes(
        'progress: 3 finished, 0 in flight (parallelism 2), 1 trial job(s) failed, 42.5 worker-seconds; stopped by its trials budget',
      ),
      lines.join('\n'),
    );
    assert.ok(lines.includes('  #0  complete  loss 7.63  lora_r=16  (worker-a)'), lines.join('\n'));
  });

  it('lists studies under the training configuration the model uses', () => {
    const item = { ...study, trials: 3 };
    const lines = formatStudyList({
      model_id: 'genesis',
      training_config: {
        hyperparameters: { lora_r: 16, learning_rate: 0.01 },
        study_name: 'genesis-0196',
        model_version: null,
      },
      items: [item],
    });
    assert.equal(
      lines[0],
      'training configuration of genesis: lora_r=16 learning_rate=0.01 (from genesis-0196)',
    );
    assert.match(
      lines[1]!,
      /^genesis-0196 {2}completed {2}cycle deployed {2}3 trials \(1 pruned\) {2}best #2 loss 0\.1626 {2}\[adopted\]$/,
    );
    const empty = formatStudyList({ model_id: 'genesis', training_config: null, items: [] });
    assert.match(empty[0]!, /the worker's defaults/);
  });
});
