import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from '@genesis/config';
import { readTriggerPolicy } from '../trigger-policy.config';
import { countsAsRejection } from './cycle-state';
import {
  DEFAULT_REJECTION_BACKOFF,
  DEFAULT_THRESHOLDS,
  backoffMinutes,
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
const policy: TriggerPolicy = {
  defaults: DEFAULT_THRESHOLDS,
  perModel: {},
  failedCooldownMinutes: 30,
  rejectionBackoff: DEFAULT_REJECTION_BACKOFF,
};

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
    // An inconclusive cycle ends like any other (the evidence gate counts from it) and is no rejection.
    const stale = facts({
      offlineScore: 0.72,
      lastEndedCycle: inconclusive,
      endedCycles: [{ id: 'c-inc', status: 'inconclusive', endedAt: daysAgo(1) }],
      evidenceSinceLastCycle: { learnings: 2, feedback: 0 },
    });
    const e = evaluateTriggers(stale, DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([e.met, e.waiting?.kind, e.counts.consecutive_rejections], [true, 'evidence', 0]);
    assert.equal(decide(stale, e, policy, NOW).decision, 'waiting_evidence');
    assert.match(
      statusDocument(stale, DEFAULT_THRESHOLDS, NOW).trigger_reason,
      /waiting for new evidence: 2\/20 .*\(2 learnings, 0 feedback\); the last cycle was inconclusive: its 20 held-out/,
    );
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

  it('a performance threshold right after a deployment waits for new evidence (0 new learnings open nothing)', () => {
    const deployed = { id: 'c-dep', status: 'deployed' as const, endedAt: daysAgo(0.01) };
    const f = facts({
      offlineScore: 0.8,
      endedCycles: [deployed],
      evidenceSinceLastCycle: { learnings: 0, feedback: 0 },
    });
    const e = evaluateTriggers(f, DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([e.met, e.trigger, e.waiting?.kind], [true, 'performance', 'evidence']);
    const verdict = decide(f, e, policy, NOW);
    assert.equal(verdict.decision, 'waiting_evidence');
    assert.equal(
      verdict.reason,
      'Performance threshold reached (accuracy: 0.800/0.9 offline is below the threshold); waiting for new ' +
        `evidence: 0/20 new learnings or feedback outcomes since cycle c-dep ended (deployed) at ${deployed.endedAt.toISOString()} ` +
        '(0 learnings, 0 feedback)',
    );
    const doc = statusDocument(f, DEFAULT_THRESHOLDS, NOW);
    assert.equal(doc.should_trigger, false);
    assert.equal(doc.trigger_reason, verdict.reason);
    assert.deepEqual(
      [
        e.counts.new_learnings,
        e.counts.new_feedback,
        e.counts.min_new_evidence,
        e.counts.consecutive_rejections,
      ],
      [0, 0, 20, 0],
    );
  });

  it('needs GENESIS_MIN_NEW_EVIDENCE learnings or feedback outcomes since the last cycle ended, capped at the learning threshold', () => {
    const ended = [{ id: 'c1', status: 'failed' as const, endedAt: daysAgo(1) }];
    const at = (learnings: number, feedback: number, t = DEFAULT_THRESHOLDS) => {
      const f = facts({
        offlineScore: 0.7,
        endedCycles: ended,
        evidenceSinceLastCycle: { learnings, feedback },
      });
      return decide(f, evaluateTriggers(f, t, NOW), policy, NOW).decision;
    };
    assert.equal(at(19, 0), 'waiting_evidence');
    assert.equal(at(12, 7), 'waiting_evidence');
    assert.equal(at(12, 8), 'open', 'feedback outcomes are evidence too');
    assert.equal(at(0, 20), 'open');
    const small = { ...DEFAULT_THRESHOLDS, learningThreshold: 5 };
    assert.equal(at(4, 0, small), 'waiting_evidence');
    assert.equal(at(5, 0, small), 'open', 'what the learning threshold calls worth a cycle is enough');
    // Learnings stored before a failed cycle ended count for nothing: they are what that cycle had.
    const f = facts({
      newLearnings: 150,
      endedCycles: ended,
      evidenceSinceLastCycle: { learnings: 3, feedback: 0 },
    });
    const e = evaluateTriggers(f, DEFAULT_THRESHOLDS, NOW);
    assert.deepEqual([e.trigger, decide(f, e, policy, NOW).decision], ['learnings', 'waiting_evidence']);
  });

  it('backs off exponentially after consecutive rejections, capped; only rejections count, a deployment resets', () => {
    const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);
    const rejected = (id: string, h: number) => ({ id, status: 'rejected' as const, endedAt: hoursAgo(h) });
    const check = (endedCycles: NonNullable<ModelFacts['endedCycles']>) => {
      const f = facts({
        offlineScore: 0.7,
        endedCycles,
        evidenceSinceLastCycle: { learnings: 50, feedback: 0 },
      });
      const e = evaluateTriggers(f, DEFAULT_THRESHOLDS, NOW);
      return { e, verdict: decide(f, e, policy, NOW) };
    };
    // One rejection: 1 h.
    assert.equal(check([rejected('r1', 0.5)]).verdict.decision, 'backoff');
    assert.equal(check([rejected('r1', 1.01)]).verdict.decision, 'open');
    // Two in a row: 2 h after the newest; a failure between them neither counts nor resets.
    const two = check([
      rejected('r2', 1.5),
      { id: 'f1', status: 'failed', endedAt: hoursAgo(3) },
      rejected('r1', 4),
    ]);
    assert.deepEqual([two.verdict.decision, two.e.counts.consecutive_rejections], ['backoff', 2]);
    assert.match(
      two.verdict.reason,
      new RegExp(
        `backing off after 2 consecutive rejected cycle\\(s\\) until ${hoursAgo(-0.5).toISOString()} \\(2 h after cycle r2 was rejected\\)$`,
      ),
    );
    assert.equal(check([rejected('r2', 2.01), rejected('r1', 4)]).verdict.decision, 'open');
    // An inconclusive evaluation is not a rejection.
    assert.equal(countsAsRejection('inconclusive'), false);
    assert.equal(
      check([{ id: 'i1', status: 'inconclusive', endedAt: hoursAgo(0.1) }]).verdict.decision,
      'open',
    );
    // A deployment ends the run.
    const reset = check([
      rejected('r3', 1.5),
      { id: 'd1', status: 'deployed', endedAt: hoursAgo(2) },
      rejected('r1', 3),
    ]);
    assert.deepEqual([reset.verdict.decision, reset.e.counts.consecutive_rejections], ['open', 1]);
    // Doubling: 1, 2, 4, … h, capped at 7 days.
    const b = DEFAULT_REJECTION_BACKOFF;
    assert.deepEqual(
      [1, 2, 3, 8, 9, 40].map((n) => backoffMinutes(n, b)),
      [60, 120, 240, 7680, 10080, 10080],
    );
    assert.equal(backoffMinutes(0, b), 0);
    const many = Array.from({ length: 12 }, (_, i) => rejected(`r${12 - i}`, 24 * 6 + i));
    assert.equal(
      check(many).verdict.decision,
      'backoff',
      '12 rejections: 7 days, and the newest was 6 days ago',
    );
  });

  it('the back-off outranks the evidence gate, and neither applies while a cycle runs', () => {
    const f = facts({
      offlineScore: 0.7,
      endedCycles: [{ id: 'r1', status: 'rejected', endedAt: NOW }],
      evidenceSinceLastCycle: { learnings: 1, feedback: 0 },
    });
    const e = evaluateTriggers(f, DEFAULT_THRESHOLDS, NOW);
    assert.equal(e.waiting?.kind, 'backoff');
    const running = { ...f, activeCycle: { id: 'c9', status: 'training' as const } };
    assert.equal(decide(running, e, policy, NOW).decision, 'cycle_running');
    assert.equal(statusDocument(running, DEFAULT_THRESHOLDS, NOW).should_trigger, true);
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
    assert.deepEqual(
      [p.defaults.minNewEvidence, p.rejectionBackoff],
      [20, { baseMinutes: 60, maxMinutes: 10080 }],
    );
    const q = readConfig(readTriggerPolicy, {
      GENESIS_MIN_NEW_EVIDENCE: '0',
      GENESIS_REJECTION_BACKOFF_MINUTES: '30',
      GENESIS_REJECTION_BACKOFF_MAX_MINUTES: '120',
      GENESIS_TRIGGER_OVERRIDES: '{"big": {"min_new_evidence": 50}}',
    });
    assert.deepEqual(
      [q.defaults.minNewEvidence, thresholdsFor(q, 'big').minNewEvidence, q.rejectionBackoff],
      [0, 50, { baseMinutes: 30, maxMinutes: 120 }],
    );
    assert.throws(
      () =>
        readConfig(readTriggerPolicy, {
          GENESIS_MIN_NEW_EVIDENCE: '-1',
          GENESIS_REJECTION_BACKOFF_MINUTES: '600',
          GENESIS_REJECTION_BACKOFF_MAX_MINUTES: '60',
        }),
      /GENESIS_MIN_NEW_EVIDENCE must be between 0 and ∞.*GENESIS_REJECTION_BACKOFF_MAX_MINUTES \(60\) must be at least/,
    );
    assert.throws(
      () =>
        readConfig(readTriggerPolicy, {
          GENESIS_PERFORMANCE_THRESHOLD: '90',
          GENESIS_TRIGGER_OVERRIDES: '{"x": {"lr": 1}}',
        }),
      /GENESIS_PERFORMANCE_THRESHOLD must be between 0 and 1.*GENESIS_TRIGGER_OVERRIDES is invalid/,
    );
    // An override takes the same ranges as the variable it overrides: a window goes into a LIMIT.
    for (const bad of [{ feedback_window: 2.5 }, { feedback_window: 1e308 }, { learning_threshold: 0 }])
      assert.throws(
        () => readConfig(readTriggerPolicy, { GENESIS_TRIGGER_OVERRIDES: JSON.stringify({ m: bad }) }),
        /GENESIS_TRIGGER_OVERRIDES is invalid.*must be an integer from 1 to/,
        JSON.stringify(bad),
      );
  });
});
