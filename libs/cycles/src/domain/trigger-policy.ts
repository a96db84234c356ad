import { keptChampion, type CycleStatus, type TriggerKind } from './cycle-state';

/** Thresholds of one model (defaults from the original spec; env in trigger-policy.config.ts). */
export interface TriggerThresholds {
  learningThreshold: number;
  timeThresholdDays: number;
  performanceThreshold: number;
  /** Online accuracy = accepted / (accepted + corrected) over the newest `feedbackWindow` outcomes … */
  feedbackWindow: number;
  /** … used only once at least this many outcomes exist (else the last offline score). */
  feedbackMinSamples: number;
}

export interface TriggerPolicy {
  defaults: TriggerThresholds;
  perModel: Record<string, Partial<TriggerThresholds>>;
  /** After a failed cycle, automatic triggers wait this long (manual ones do not). */
  failedCooldownMinutes: number;
}

export const DEFAULT_THRESHOLDS: TriggerThresholds = {
  learningThreshold: 100,
  timeThresholdDays: 62,
  performanceThreshold: 0.9,
  feedbackWindow: 200,
  feedbackMinSamples: 50,
};

export function thresholdsFor(policy: TriggerPolicy, modelId: string): TriggerThresholds {
  return { ...policy.defaults, ...(policy.perModel[modelId] ?? {}) };
}

/** Everything the decision needs, read from the database (see status-query.ts). */
export interface ModelFacts {
  modelId: string;
  /** Accepted learnings not yet taken by a training snapshot. */
  newLearnings: number;
  oldestNewLearningAt: Date | null;
  /** When the current champion was deployed (the spec's last_training_time). */
  lastTrainingTime: Date | null;
  currentModel: string | null;
  trainingRuns: number;
  /** The champion's offline accuracy from its evaluation. */
  offlineScore: number | null;
  /** Feedback outcomes on the champion, newest `feedbackWindow` of them. */
  feedback: { samples: number; accepted: number };
  lastCheckTime: Date | null;
  activeCycle: { id: string; status: CycleStatus } | null;
  lastFailedAt: Date | null;
  /**
   * The model's latest finished cycle and when it opened; for an evaluated one, what its suite
   * could detect (model.evaluated `power` and `min_improvement`).
   */
  lastEndedCycle?: {
    id?: string;
    status: CycleStatus;
    openedAt: Date;
    power?: { items: number; mde: number | null; needed_items: number | null; target_power: number } | null;
    minImprovement?: number | null;
  } | null;
  /** The newest evidence: the latest accepted learning or feedback outcome. */
  newestInputAt?: Date | null;
}

/**
 * After a cycle whose candidate was rejected (or judged inconclusive), low accuracy alone
 * re-triggers only on something new since that cycle opened: retraining on the same data
 * reproduces the same candidate and the same suite, so without this a champion below the
 * threshold would open one such cycle after another.
 */
function newEvidenceSinceLastCycle(f: ModelFacts): boolean {
  const last = f.lastEndedCycle;
  if (!last || !keptChampion(last.status)) return true;
  return !!f.newestInputAt && f.newestInputAt.getTime() > last.openedAt.getTime();
}

/** The numbers a decision saw; they travel in threshold.reached and the cycle row. */
export interface TriggerCounts {
  learnings_since_training: number;
  learning_threshold: number;
  days_since_training: number;
  time_threshold_days: number;
  accuracy: number | null;
  accuracy_source: 'online' | 'offline' | null;
  performance_threshold: number;
  feedback_samples: number;
}

export interface TriggerEvaluation {
  /** A threshold is met (whether or not a cycle is already running). */
  met: boolean;
  trigger: Exclude<TriggerKind, 'manual'> | null;
  reason: string;
  counts: TriggerCounts;
  /** When the met threshold was crossed, if known (for the threshold → event latency metric). */
  crossedAt: Date | null;
}

const DAY_MS = 24 * 3600 * 1000;

export function effectiveAccuracy(
  facts: ModelFacts,
  t: TriggerThresholds,
): { accuracy: number | null; source: 'online' | 'offline' | null } {
  if (facts.feedback.samples >= t.feedbackMinSamples && facts.feedback.samples > 0) {
    return { accuracy: facts.feedback.accepted / facts.feedback.samples, source: 'online' };
  }
  if (facts.offlineScore !== null) return { accuracy: facts.offlineScore, source: 'offline' };
  return { accuracy: null, source: null };
}

/**
 * The spec's trigger conditions, in its order: learnings, then time (with at least one new
 * learning), then performance. Before any deployment, "days since training" counts from the
 * oldest learning still waiting for a training.
 */
export function evaluateTriggers(facts: ModelFacts, t: TriggerThresholds, now: Date): TriggerEvaluation {
  const since = facts.lastTrainingTime ?? facts.oldestNewLearningAt;
  const days = since ? Math.max(0, Math.floor((now.getTime() - since.getTime()) / DAY_MS)) : 0;
  const { accuracy, source } = effectiveAccuracy(facts, t);
  const counts: TriggerCounts = {
    learnings_since_training: facts.newLearnings,
    learning_threshold: t.learningThreshold,
    days_since_training: days,
    time_threshold_days: t.timeThresholdDays,
    accuracy,
    accuracy_source: source,
    performance_threshold: t.performanceThreshold,
    feedback_samples: facts.feedback.samples,
  };
  const accuracyText =
    accuracy === null
      ? ''
      : `accuracy: ${accuracy.toFixed(3)}/${t.performanceThreshold} ${source}` +
        (source === 'online' ? ` over ${facts.feedback.samples} outcomes` : '');

  if (facts.newLearnings >= t.learningThreshold) {
    return {
      met: true,
      trigger: 'learnings',
      reason: `Learning threshold reached (learnings: ${facts.newLearnings}/${t.learningThreshold})`,
      counts,
      crossedAt: null,
    };
  }
  if (days >= t.timeThresholdDays && facts.newLearnings > 0 && since) {
    return {
      met: true,
      trigger: 'time',
      reason: `Time threshold reached (days: ${days}/${t.timeThresholdDays}, learnings: ${facts.newLearnings})`,
      counts,
      crossedAt: new Date(since.getTime() + t.timeThresholdDays * DAY_MS),
    };
  }
  const belowThreshold = accuracy !== null && accuracy < t.performanceThreshold;
  if (belowThreshold && newEvidenceSinceLastCycle(facts)) {
    return {
      met: true,
      trigger: 'performance',
      reason: `Performance threshold reached (${accuracyText} is below the threshold)`,
      counts,
      crossedAt: null,
    };
  }
  const parts = [
    `learnings: ${facts.newLearnings}/${t.learningThreshold}`,
    `days: ${days}/${t.timeThresholdDays}`,
  ];
  if (days >= t.timeThresholdDays) parts[1] += ' with no new learning';
  if (accuracyText) parts.push(accuracyText);
  if (belowThreshold)
    parts.push(
      `accuracy is below the threshold but nothing is new since the last ${facts.lastEndedCycle?.status ?? 'rejected'} cycle`,
    );
  return {
    met: false,
    trigger: null,
    reason: `Thresholds not met (${parts.join(', ')})`,
    counts,
    crossedAt: null,
  };
}

export type CheckDecision = 'open' | 'not_met' | 'cycle_running' | 'cooldown';

/** Whether a check should open a cycle now, and the sentence that says why. */
export function decide(
  facts: ModelFacts,
  evaluation: TriggerEvaluation,
  policy: TriggerPolicy,
  now: Date,
): { decision: CheckDecision; reason: string } {
  if (!evaluation.met) return { decision: 'not_met', reason: withCycle(evaluation.reason, facts) };
  if (facts.activeCycle) return { decision: 'cycle_running', reason: withCycle(evaluation.reason, facts) };
  const cooldownMs = policy.failedCooldownMinutes * 60_000;
  if (facts.lastFailedAt && now.getTime() - facts.lastFailedAt.getTime() < cooldownMs) {
    const until = new Date(facts.lastFailedAt.getTime() + cooldownMs).toISOString();
    return {
      decision: 'cooldown',
      reason: `${evaluation.reason}; waiting after a failed cycle until ${until}`,
    };
  }
  return { decision: 'open', reason: evaluation.reason };
}

function withCycle(reason: string, facts: ModelFacts): string {
  return facts.activeCycle
    ? `${reason}; cycle ${facts.activeCycle.id} is ${facts.activeCycle.status}`
    : reason;
}

/**
 * After an inconclusive cycle, what it would take to decide (ADR 0015): e.g. "the last cycle was
 * inconclusive: its 20 held-out items detect +0.3120 at 80% power, not +0.01; about 2,980 more
 * are needed". Empty otherwise.
 */
export function inconclusiveNote(facts: ModelFacts): string {
  const last = facts.lastEndedCycle;
  if (!last || last.status !== 'inconclusive') return '';
  const p = last.power;
  if (!p) return '; the last cycle was inconclusive';
  if (p.items === 0) return '; the last cycle was inconclusive: it had no held-out items';
  if (p.mde !== null && last.minImprovement != null && p.mde <= last.minImprovement)
    return `; the last cycle was inconclusive: neither model scored on its ${p.items} held-out items`;
  const detects = p.mde === null ? 'detect no gain' : `detect +${p.mde.toFixed(4)}`;
  const wanted =
    last.minImprovement === null || last.minImprovement === undefined ? '' : `, not +${last.minImprovement}`;
  const more =
    p.needed_items === null
      ? 'no suite size would'
      : `about ${Math.max(1, p.needed_items - p.items).toLocaleString('en-US')} more are needed`;
  return `; the last cycle was inconclusive: its ${p.items} held-out items ${detects} at ${Math.round(p.target_power * 100)}% power${wanted}; ${more}`;
}

/** The spec's status document, field for field. */
export interface ImprovementStatus {
  last_training_time: string | null;
  learnings_since_training: number;
  current_model: string | null;
  training_runs: number;
  improvement_score: number | null;
  last_check_time: string | null;
  should_trigger: boolean;
  trigger_reason: string;
}

/**
 * improvement_score is the champion's accuracy as the trigger sees it: online with enough feedback,
 * else offline — the accuracy measured by the evaluation that promoted it. That one was selected
 * for being high, so it overstates the champion's true accuracy (the winner's curse, ADR 0015);
 * the next cycle's model.evaluated re-measures the champion beside its challenger.
 */
export function statusDocument(facts: ModelFacts, t: TriggerThresholds, now: Date): ImprovementStatus {
  const evaluation = evaluateTriggers(facts, t, now);
  return {
    last_training_time: facts.lastTrainingTime?.toISOString() ?? null,
    learnings_since_training: facts.newLearnings,
    current_model: facts.currentModel,
    training_runs: facts.trainingRuns,
    improvement_score: evaluation.counts.accuracy,
    last_check_time: facts.lastCheckTime?.toISOString() ?? null,
    should_trigger: evaluation.met,
    trigger_reason: withCycle(evaluation.reason, facts) + inconclusiveNote(facts),
  };
}
