import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTask, parseKeyValues, type TaskDetail } from './task-show.format';

describe('genesis tasks show / add --target', () => {
  it('reads key=value pairs or JSON, and nothing else', () => {
    assert.deepEqual(parseKeyValues('accuracy=0.8, gain=0.02'), { accuracy: 0.8, gain: 0.02 });
    assert.deepEqual(parseKeyValues('{"latency_target_ms": 200}'), { latency_target_ms: 200 });
    assert.equal(parseKeyValues('accuracy=high'), null);
    assert.equal(parseKeyValues('[1]'), null);
    assert.equal(parseKeyValues(''), null);
  });

  it('shows what a task asked and what it reached', () => {
    const task: TaskDetail = {
      id: 't1',
      model_id: 'genesis',
      kind: 'training',
      status: 'deployed',
      phase: null,
      priority: 5,
      priority_explanation: { summary: '5 as requested by k1' },
      requested_by: 'k1',
      reason: 'Custom training task by k1',
      cycle_id: 'c1',
      queued_at: '2026-12-05T01:58:00.000Z',
      started_at: '2026-12-05T01:58:01.000Z',
      ended_at: '2026-12-05T02:08:00.000Z',
      target_metrics: { accuracy: 0.8, gain: 0.2 },
      constraints: { latency_target_ms: 200 },
      result: {
        performance_gain: 0.1,
        measured_delta: 0.1,
        execution_seconds: 599.4,
        model_version: 'genesis-v2',
        failure_reason: null,
        targets_met: {
          all: false,
          metrics: {
            accuracy: { target: 0.8, value: 0.85, met: true },
            gain: { target: 0.2, value: 0.1, met: false },
          },
        },
        constraints: [
          {
            constraint: 'latency_target_ms',
            code: 'latency_constraint',
            limit: 200,
            source: 'task',
            value: 25,
            ok: true,
          },
        ],
      },
    };
    assert.deepEqual(formatTask(task).slice(5), [
      '  targets accuracy=0.8, gain=0.2',
      '  constraints latency_target_ms=200',
      '  result: gain 0.1 (measured delta 0.1), 599 s, version genesis-v2',
      '  targets NOT met:',
      '    accuracy 0.85 (target 0.8) met',
      '    gain 0.1 (target 0.2) not met',
      '  constraint latency_target_ms ≤ 200 (task): 25 kept',
    ]);
  });
});
