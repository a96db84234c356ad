// countsAsRejection (cycle-state.ts) is the one place that says which ended cycles count towards
// the back-off: only a rejection. A failure says nothing about the data, an inconclusive
// evaluation says the suite could not tell; neither counts, neither resets the run.
import { countsAsRejection, type CycleStatus, type TriggerKind } from './cycle-state';

/** Thresholds of one model (defaults from the original spec; env in trigger-policy.config.ts). */
export interface TriggerThresholds {
  learningThreshold: number;
  timeThresholdDays: number;
  performanceThreshold: number;
  /** Online accuracy = accepted / (accepted + corrected) over the newest `feedbackWindow` outcomes … */
  feedbackWindow: number;
  /** … used only once at least this many outcomes exist (else the last offline score). */
  feedbackMinSamples: number;
  /**
   * An automatic cycle needs at least this many new accepted learnings plus feedback outcomes
   * since the model's last cycle ended (whatever its outcome), capped at `learningThreshold`
   * (ADR 0014): retraining on the data the last cycle already saw reproduces its candidate.
   */
  minNewEvidence: number;
}

/** Consecutive rejected cycles make automatic triggers wait base · 2^(n−1), at most `maxMinutes`. */
export interface RejectionBackoff {
  baseMinutes: number;
  maxMinutes: number;
}

export interface TriggerPolicy {
  defaults: TriggerThresholds;
  perModel: Record<string, Partial<TriggerThresholds>>;
  /** After a failed cycle, automatic triggers wait this long (manual ones do not). */
  failedCooldownMinutes: number;
  rejectionBackoff: RejectionBackoff;
}

export const DEFAULT_THRESHOLDS: TriggerThresholds = {
  learningThreshold: 100,
  timeThresholdDays: 62,
  performanceThreshold: 0.9,
  feedbackWindow: 200,
  feedbackMinSamples: 50,
  // A fifth of a learnings-triggered batch: enough new material that a retrain can differ from the
  // last one, small enough that the performance trigger still reacts within a day of normal use.
  minNewEvidence: 20,
};

export const DEFAULT_REJECTION_BACKOFF: RejectionBackoff = { baseMinutes: 60, maxMinutes: 7 * 24 * 60 };

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
  /** The model's finished cycles, newest end first (a few dozen at most: enough for the back-off). */
  endedCycles?: EndedCycle[];
  /** Accepted learnings and feedback outcomes recorded since the newest of `endedCycles` ended (ever, if none). */
  evidenceSinceLastCycle?: { learnings: number; feedback: number };
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
}

export interface EndedCycle {
  id: string;
  status: CycleStatus;
  endedAt: Date;
}

/** A deployment ends a run of rejections: the champion changed, so the data's worth is measured anew. */
function endsRejectionRun(status: CycleStatus): boolean {
  return status === 'deployed';
}

/** Rejections since the last deployment, and the newest of them. */
export function rejectionRun(ended: readonly EndedCycle[]): { count: number; last: EndedCycle | null } {
  let count = 0;
  let last: EndedCycle | null = null;
  for (const c of ended) {
    if (endsRejectionRun(c.status)) break;
    if (!countsAsRejection(c.status)) continue;
    count += 1;
    last ??= c;
  }
  return { count, last };
}

/** base · 2^(n−1) minutes after the n-th consecutive rejection, capped; 0 without one. */
export function backoffMinutes(rejections: number, b: RejectionBackoff): number {
  if (rejections <= 0 || b.baseMinutes <= 0) return 0;
  // 2^(n−1) overflows nothing that matters: past ~60 doublings the cap has long applied.
  return Math.min(b.maxMinutes, b.baseMinutes * 2 ** Math.min(rejections - 1, 60));
}

/** The evidence a threshold needs before an automatic cycle opens: capped by the learning threshold. */
export function requiredEvidence(t: TriggerThresholds): number {
  return Math.max(0, Math.min(t.minNewEvidence, t.learningThreshold));
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
  /** Accepted learnings / feedback outcomes since the last cycle ended, and what a cycle needs. */
  new_learnings: number;
  new_feedback: number;
  min_new_evidence: number;
  /** Rejected cycles since the last deployment (what the back-off is computed from). */
  consecutive_rejections: number;
}

export interface TriggerEvaluation {
  /** A threshold is met (whether or not a cycle is already running). */
  met: boolean;
  trigger: Exclude<TriggerKind, 'manual'> | null;
  reason: string;
  counts: TriggerCounts;
  /** When the met threshold was crossed, if known (for the threshold → event latency metric). */
  crossedAt: Date | null;
  /** Why an automatic cycle may not open yet although a threshold is met (null: it may). */
  waiting: TriggerWait | null;
}

/** An automatic trigger held back: not enough new evidence, or backing off after rejections. */
export type TriggerWait =
  | { kind: 'evidence'; text: string; have: number; need: number }
  | { kind: 'backoff'; text: string; until: Date; seconds: number; rejections: number };

/** The back-off in force now after a run of rejections, if any (independent of any threshold). */
export function activeBackoff(
  facts: ModelFacts,
  policy: RejectionBackoff,
  now: Date,
): { until: Date; seconds: number; minutes: number; rejections: number; lastRejected: EndedCycle } | null {
  const run = rejectionRun(facts.endedCycles ?? []);
  const minutes = backoffMinutes(run.count, policy);
  if (!run.last || minutes <= 0) return null;
  const until = new Date(run.last.endedAt.getTime() + minutes * 60_000);
  if (until.getTime() <= now.getTime()) return null;
  const seconds = Math.ceil((until.getTime() - now.getTime()) / 1000);
  return { until, seconds, minutes, rejections: run.count, lastRejected: run.last };
}

/** New accepted learnings plus feedback outcomes since the last cycle ended, against what a cycle needs. */
export function newEvidence(facts: ModelFacts, t: TriggerThresholds) {
  const e = facts.evidenceSinceLastCycle ?? { learnings: facts.newLearnings, feedback: 0 };
  return { ...e, have: e.learnings + e.feedback, need: requiredEvidence(t) };
}

function waitFor(
  facts: ModelFacts,
  t: TriggerThresholds,
  policy: RejectionBackoff,
  now: Date,
): TriggerWait | null {
  const backoff = activeBackoff(facts, policy, now);
  if (backoff) {
    return {
      kind: 'backoff',
      text:
        `backing off after ${backoff.rejections} consecutive rejected cycle(s) until ${backoff.until.toISOString()} ` +
        `(${formatMinutes(backoff.minutes)} after cycle ${backoff.lastRejected.id} was rejected)`,
      until: backoff.until,
      seconds: backoff.seconds,
      rejections: backoff.rejections,
    };
  }
  const evidence = newEvidence(facts, t);
  if (evidence.have < evidence.need) {
    const lastEnded = facts.endedCycles?.[0];
    const since = lastEnded
      ? `since cycle ${lastEnded.id} ended (${lastEnded.status}) at ${lastEnded.endedAt.toISOString()}`
      : 'so far';
    return {
      kind: 'evidence',
      text:
        `waiting for new evidence: ${evidence.have}/${evidence.need} new learnings or feedback outcomes ${since} ` +
        `(${evidence.learnings} learnings, ${evidence.feedback} feedback)`,
      have: evidence.have,
      need: evidence.need,
    };
  }
  return null;
}

function formatMinutes(minutes: number): string {
  if (minutes % (24 * 60) === 0) return `${minutes / (24 * 60)} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
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
export function evaluateTriggers(
  facts: ModelFacts,
  t: TriggerThresholds,
  now: Date,
  backoff: RejectionBackoff = DEFAULT_REJECTION_BACKOFF,
): TriggerEvaluation {
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
    new_learnings: newEvidence(facts, t).learnings,
    new_feedback: newEvidence(facts, t).feedback,
    min_new_evidence: requiredEvidence(t),
    consecutive_rejections: rejectionRun(facts.endedCycles ?? []).count,
  };
  // Computed only when a threshold is met: the gates hold back a met threshold, nothing else.
  const gate = () => waitFor(facts, t, backoff, now);
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
      waiting: gate(),
    };
  }
  if (days >= t.timeThresholdDays && facts.newLearnings > 0 && since) {
    return {
      met: true,
      trigger: 'time',
      reason: `Time threshold reached (days: ${days}/${t.timeThresholdDays}, learnings: ${facts.newLearnings})`,
      counts,
      crossedAt: new Date(since.getTime() + t.timeThresholdDays * DAY_MS),
      waiting: gate(),
    };
  }
  const belowThreshold = accuracy !== null && accuracy < t.performanceThreshold;
  if (belowThreshold) {
    return {
      met: true,
      trigger: 'performance',
      reason: `Performance threshold reached (${accuracyText} is below the threshold)`,
      counts,
      crossedAt: null,
      waiting: gate(),
    };
  }
  const parts = [
    `learnings: ${facts.newLearnings}/${t.learningThreshold}`,
    `days: ${days}/${t.timeThresholdDays}`,
  ];
  if (days >= t.timeThresholdDays) parts[1] += ' with no new learning';
  if (accuracyText) parts.push(accuracyText);
  return {
    met: false,
    trigger: null,
    reason: `Thresholds not met (${parts.join(', ')})`,
    counts,
    crossedAt: null,
    waiting: null,
  };
}

export type CheckDecision =
  'open' | 'not_met' | 'cycle_running' | 'cooldown' | 'waiting_evidence' | 'backoff';

/** Whether a check should open a cycle now, and the sentence that says why. */
export function decide(
  facts: ModelFacts,
  evaluation: TriggerEvaluation,
  policy: TriggerPolicy,
  now: Date,
): { decision: CheckDecision; reason: string } {
  if (!evaluation.met) return { decision: 'not_met', reason: withCycle(evaluation.reason, facts) };
  if (facts.activeCycle) return { decision: 'cycle_running', reason: withCycle(evaluation.reason, facts) };
  if (evaluation.waiting) {
    return {
      decision: evaluation.waiting.kind === 'evidence' ? 'waiting_evidence' : 'backoff',
      reason: `${evaluation.reason}; ${evaluation.waiting.text}`,
    };
  }
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
export function statusDocument(
  facts: ModelFacts,
  t: TriggerThresholds,
  now: Date,
  backoff: RejectionBackoff = DEFAULT_REJECTION_BACKOFF,
): ImprovementStatus {
  const evaluation = evaluateTriggers(facts, t, now, backoff);
  // A held-back threshold is not "should trigger": the reason says what it waits for. A running
  // cycle keeps the old meaning (a threshold is met, and the running cycle is named).
  const waiting = !facts.activeCycle && evaluation.waiting;
  return {
    last_training_time: facts.lastTrainingTime?.toISOString() ?? null,
    learnings_since_training: facts.newLearnings,
    current_model: facts.currentModel,
    training_runs: facts.trainingRuns,
    improvement_score: evaluation.counts.accuracy,
    last_check_time: facts.lastCheckTime?.toISOString() ?? null,
    should_trigger: evaluation.met && !waiting,
    trigger_reason:
      (waiting ? `${evaluation.reason}; ${waiting.text}` : withCycle(evaluation.reason, facts)) +
      inconclusiveNote(facts),
  };
}
