import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PRIORITY_WEIGHTS, computePriority, effectivePriority, type ModelSignals } from './priority';
import { DEFAULT_ARCHITECTURE_RULE, architectureRule } from './rules';

const quiet: ModelSignals = {
  backlog: 0,
  staleness: 0,
  accuracy: null,
  accuracy_gap: null,
  accuracy_trend: null,
  negative_feedback_rate: null,
  negative_feedback_trend: null,
  recent_rejections: 0,
  recent_gains: [],
  latency_ms: null,
  latency_target_ms: null,
  latency_over_target: null,
  targets_unmet: null,
};

describe('engine priority', () => {
  it('adds weight × signal and explains every term; unmeasured signals contribute nothing', () => {
    const { priority, explanation } = computePriority(
      { ...quiet, backlog: 1.5, accuracy: 0.85, accuracy_gap: 0.05, negative_feedback_rate: 0.2 },
      { backlog: 1, accuracy_gap: 4, negative_feedback_rate: 1, latency_ms: 0.01 },
    );
    assert.equal(priority, 1.9);
    assert.deepEqual(
      explanation.terms.map((t) => [t.signal, t.value, t.weight, t.contribution]),
      [
        ['backlog', 1.5, 1, 1.5],
        ['accuracy_gap', 0.05, 4, 0.2],
        ['negative_feedback_rate', 0.2, 1, 0.2],
        ['latency_ms', null, 0.01, 0],
      ],
    );
    assert.equal(
      explanation.summary,
      'backlog 1.50×1 + accuracy gap 0.05×4 + negative feedback 0.20×1 = 1.90',
    );
  });

  it('ranks a larger backlog and a falling accuracy higher, and never goes below 0', () => {
    const w = DEFAULT_PRIORITY_WEIGHTS.training;
    const small = computePriority({ ...quiet, backlog: 1 }, w).priority;
    const large = computePriority({ ...quiet, backlog: 2 }, w).priority;
    const falling = computePriority({ ...quiet, backlog: 1, accuracy_trend: -0.05 }, w).priority;
    assert.ok(large > small && falling > small, `${small} ${large} ${falling}`);
    assert.equal(computePriority({ ...quiet, recent_rejections: 5 }, w).priority, 0);
  });

  it('keeps a model whose last task missed its targets ahead of one that met them', () => {
    const w = DEFAULT_PRIORITY_WEIGHTS.training;
    const met = computePriority({ ...quiet, backlog: 1, targets_unmet: 0 }, w);
    const missed = computePriority({ ...quiet, backlog: 1, targets_unmet: 0.5 }, w);
    assert.ok(missed.priority > met.priority, `${missed.priority} ${met.priority}`);
    assert.equal(missed.explanation.summary, 'backlog 1.00×1 + targets unmet 0.50×1 = 1.50');
  });

  it('ages: a waiting task overtakes a fresher, higher one in time', () => {
    assert.equal(effectivePriority(1, 0, 0.1), 1);
    assert.ok(effectivePriority(1, 11 * 3600, 0.1) > effectivePriority(2, 0, 0.1));
  });

  it('asks for an architecture search after rejections in a row or a flat gain trend', () => {
    const p = DEFAULT_ARCHITECTURE_RULE;
    assert.equal(architectureRule({ ...quiet, recent_rejections: 2 }, p).needed, false);
    assert.match(
      architectureRule({ ...quiet, recent_rejections: 3 }, p).reason,
      /3 training cycles in a row rejected/,
    );
    assert.equal(architectureRule({ ...quiet, recent_gains: [0.001, 0.002] }, p).needed, false);
    assert.match(architectureRule({ ...quiet, recent_gains: [0.001, 0.002, 0, 0.05] }, p).reason, /flat/);
    assert.equal(architectureRule({ ...quiet, recent_gains: [0.001, 0.02, 0] }, p).needed, false);
  });
});
