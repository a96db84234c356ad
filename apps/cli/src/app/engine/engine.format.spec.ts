import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatHistory, formatTasks } from './engine.format';

describe('engine output', () => {
  const now = new Date('2026-12-05T02:00:00.000Z');

  it('shows a task with its phase, priority and why', () => {
    const lines = formatTasks(
      [
        {
          id: '0193f0b1-0000-7000-8000-0000000000a1',
          model_id: 'genesis',
          kind: 'training',
          status: 'running',
          phase: 'training',
          priority: 1.7,
          priority_explanation: { summary: 'backlog 1.50×1 + accuracy gap 0.05×4 = 1.70' },
          requested_by: 'policy:training',
          reason: 'Learning threshold reached',
          cycle_id: null,
          queued_at: '2026-12-05T01:58:00.000Z',
          result: null,
        },
      ],
      now,
    );
    assert.match(lines[0]!, /^ID\s+MODEL\s+KIND\s+STATUS\s+PRIORITY/);
    assert.match(
      lines[1]!,
      /genesis\s+training\s+running \(training\)\s+1\.7\s+2m ago\s+policy:training\s+backlog 1\.50×1/,
    );
    assert.deepEqual(formatTasks([], now), ['no improvement tasks (`genesis tasks add` queues one)']);
  });

  it('shows an iteration with its figures and the limit in force', () => {
    const [header, row] = formatHistory(
      [
        {
          iteration: 7,
          trigger: 'interval',
          ended_at: '2026-12-05T01:59:00.000Z',
          models_checked: 3,
          tasks_enqueued: 2,
          tasks_completed: 1,
          models_improved: 1,
          total_gain: 0.04,
          best_gain: 0.04,
          avg_execution_seconds: 312.4,
          resources: { concurrency: { limit: 2 } },
        },
      ],
      now,
    );
    assert.match(header!, /^ITERATION\s+TRIGGER/);
    assert.match(row!, /^7\s+interval\s+1m ago\s+3\s+2\s+1\s+1\s+0\.04\s+0\.04\s+312\s+2$/);
  });
});
