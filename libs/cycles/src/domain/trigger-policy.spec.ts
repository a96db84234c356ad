import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from '@genesis/config';
import { readTriggerPolicy } from '../trigger-policy.config';
import {
  DEFAULT_THRESHOLDS,
  decide,
  evaluateTriggers,
  statusDocument,
  thresholdsFor,
  type ModelFacts,
  type TriggerPolicy,
} from './trigger-policy';

const DAY = 24 * 3600 * 1000;
const NOW = new Date('2026-11-21T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY);
const policy: TriggerPolicy = { defaults: DEFAULT_THRESHOLDS, perModel: {}, failedCooldownMinutes: 30 };

function facts(over: Partial<ModelFacts> = {}): ModelFacts {
  return {
    modelId: 'genesis',
    newLearnings: 0,
    oldestNewLearningAt: null,
    lastTrainingTime: daysAgo(1),
    currentModel: 'genesis-20261120-120000',
    trainingRuns: 1,
    offlineScore: 0.95,
    feedback: { samples: 0, accepted: 0 },
    lastCheckTime: null,
    activeCycle: null,
    lastFailedAt: null,
    ...over,
  };
}

describe('trigger policy', () => {
  it("says why nothing triggers, in the spec's words", () => {
    const e = evaluateTriggers(facts({ newLearnings: 45 }), DEFAULT_THRESHOLDS, NOW);
    assert.equal(e.met, false);
    assert.match(
      e.reason,
      /^Thresholds not met \(learnings: 45\/100, days: 1\/62, accuracy: 0\.950\/0\.9 offline\)$/,
    );
  });

  it('triggers on the 100th new learning, not the 99th', () => {
    assert.equal(evaluateTriggers(facts({ newLearnings: 99 }), DEFAULT_THRESHOLDS, NOW).met, false);
    const e = evaluateTriggers(facts({ newLearnings: 100 }), DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([e.met, e.trigger], [true, 'learnings']);
    assert.equal(e.reason, 'Learning threshold reached (learnings: 100/100)');
  });

  it('triggers on time only with at least one new learning', () => {
    assert.equal(
      evaluateTriggers(facts({ lastTrainingTime: daysAgo(70) }), DEFAULT_THRESHOLDS, NOW).met,
      false,
    );
    const e = evaluateTriggers(
      facts({ lastTrainingTime: daysAgo(62), newLearnings: 1 }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.deepEqual([e.met, e.trigger, e.counts.days_since_training], [true, 'time', 62]);
    assert.equal(e.crossedAt?.toISOString(), NOW.toISOString());
  });

  it('counts days from the oldest waiting learning before any training', () => {
    const f = facts({ lastTrainingTime: null, currentModel: null, offlineScore: null, trainingRuns: 0 });
    const e = evaluateTriggers(
      { ...f, newLearnings: 3, oldestNewLearningAt: daysAgo(63) },
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.deepEqual([e.trigger, e.counts.days_since_training], ['time', 63]);
  });

  it('prefers online accuracy once the window has enough samples, else the offline score', () => {
    const few = evaluateTriggers(facts({ feedback: { samples: 49, accepted: 10 } }), DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([few.met, few.counts.accuracy_source], [false, 'offline']);
    const many = evaluateTriggers(
      facts({ feedback: { samples: 50, accepted: 40 } }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.deepEqual(
      [many.met, many.trigger, many.counts.accuracy, many.counts.accuracy_source],
      [true, 'performance', 0.8, 'online'],
    );
    const offline = evaluateTriggers(facts({ offlineScore: 0.85 }), DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([offline.trigger, offline.counts.accuracy_source], ['performance', 'offline']);
  });

  it('after an inconclusive cycle, re-triggers only on new evidence and says how many more held-out items it needs', () => {
    const inconclusive = {
      status: 'inconclusive' as const,
      openedAt: daysAgo(1),
      power: { items: 20, mde: 0.3134, needed_items: 671, target_power: 0.8 },
      minImprovement: 0.01,
    };
    const stale = evaluateTriggers(
      facts({ offlineScore: 0.72, lastEndedCycle: inconclusive, newestInputAt: daysAgo(2) }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.equal(stale.met, false);
    assert.match(stale.reason, /nothing is new since the last inconclusive cycle/);
    const s = statusDocument(facts({ lastEndedCycle: inconclusive }), DEFAULT_THRESHOLDS, NOW);
    assert.match(
      s.trigger_reason,
      /; the last cycle was inconclusive: its 20 held-out items detect \+0\.3134 at 80% power, not \+0\.01; about 651 more are needed$/,
    );
    const noScore = statusDocument(
      facts({ lastEndedCycle: { ...inconclusive, power: { ...inconclusive.power, mde: 0.005 } } }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.match(noScore.trigger_reason, /inconclusive: neither model scored on its 20 held-out items$/);
    const rejected = statusDocument(
      facts({ lastEndedCycle: { ...inconclusive, status: 'rejected' } }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.doesNotMatch(rejected.trigger_reason, /inconclusive/);
  });

  it('after a rejected cycle, low accuracy re-triggers only on new evidence (no loop of identical retrainings)', () => {
    const rejected = { status: 'rejected' as const, openedAt: daysAgo(1) };
    const stale = evaluateTriggers(
      facts({ offlineScore: 0.72, lastEndedCycle: rejected, newestInputAt: daysAgo(2) }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.equal(stale.met, false);
    assert.match(stale.reason, /nothing is new since the last rejected cycle/);
    const fresh = evaluateTriggers(
      facts({ offlineScore: 0.72, lastEndedCycle: rejected, newestInputAt: NOW }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.equal(fresh.trigger, 'performance');
    const afterDeploy = evaluateTriggers(
      facts({
        offlineScore: 0.72,
        lastEndedCycle: { ...rejected, status: 'deployed' },
        newestInputAt: daysAgo(2),
      }),
      DEFAULT_THRESHOLDS,
      NOW,
    );
    assert.equal(
      afterDeploy.trigger,
      'performance',
      'a freshly deployed champion under the threshold still triggers',
    );
  });

  it('opens only when no cycle runs and no failure is cooling down', () => {
    const f = facts({ newLearnings: 120 });
    const e = evaluateTriggers(f, DEFAULT_THRESHOLDS, NOW);
    assert.equal(decide(f, e, policy, NOW).decision, 'open');
    const running = { ...f, activeCycle: { id: 'c1', status: 'training' as const } };
    assert.deepEqual(decide(running, e, policy, NOW), {
      decision: 'cycle_running',
      reason: 'Learning threshold reached (learnings: 120/100); cycle c1 is training',
    });
    const cooling = { ...f, lastFailedAt: new Date(NOW.getTime() - 10 * 60_000) };
    assert.equal(decide(cooling, e, policy, NOW).decision, 'cooldown');
    const cooled = { ...f, lastFailedAt: new Date(NOW.getTime() - 31 * 60_000) };
    assert.equal(decide(cooled, e, policy, NOW).decision, 'open');
  });

  it('builds exactly the spec status fields', () => {
    const doc = statusDocument(facts({ newLearnings: 45, lastCheckTime: NOW }), DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual(Object.keys(doc).sort(), [
      'current_model',
      'improvement_score',
      'last_check_time',
      'last_training_time',
      'learnings_since_training',
      'should_trigger',
      'training_runs',
      'trigger_reason',
    ]);
    assert.equal(doc.should_trigger, false);
    assert.equal(doc.improvement_score, 0.95);
  });

  it('reads thresholds and per-model overrides from the environment, refusing bad ones', () => {
    const p = readConfig(readTriggerPolicy, {
      GENESIS_LEARNING_THRESHOLD: '5',
      GENESIS_TRIGGER_OVERRIDES: '{"small": {"learning_threshold": 2, "performance_threshold": 0.5}}',
    });
    assert.equal(thresholdsFor(p, 'genesis').learningThreshold, 5);
    assert.equal(thresholdsFor(p, 'small').learningThreshold, 2);
    assert.equal(thresholdsFor(p, 'small').timeThresholdDays, 62);
    assert.throws(
      () =>
        readConfig(readTriggerPolicy, {
          GENESIS_PERFORMANCE_THRESHOLD: '90',
          GENESIS_TRIGGER_OVERRIDES: '{"x": {"lr": 1}}',
        }),
      /GENESIS_PERFORMANCE_THRESHOLD must be between 0 and 1.*GENESIS_TRIGGER_OVERRIDES is invalid/,
    );
  });
});
