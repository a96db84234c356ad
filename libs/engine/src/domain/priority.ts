import type { PriorityExplanation, PriorityTerm, TaskKind } from './task';

/**
 * The measured signals of one model that a priority is computed from (ADR 0024; docs/engine.md maps
 * the seed's "hormones" and "genetic triggers" onto them). Every value is a plain measurement or a
 * ratio to the model's own threshold; null means "not measured" and contributes nothing.
 */
export interface ModelSignals {
  /** Accepted learnings not yet trained on, ÷ the learning threshold. */
  backlog: number;
  /** Days since training ÷ the time threshold. */
  staleness: number;
  /** Champion accuracy (online with enough feedback, else offline). */
  accuracy: number | null;
  /** How far the accuracy is below the performance threshold (0 when above). */
  accuracy_gap: number | null;
  /** Offline score change between the last two deployed versions (negative: declining). */
  accuracy_trend: number | null;
  /** Share of recent feedback outcomes that were corrections. */
  negative_feedback_rate: number | null;
  /** Correction rate of the newer half of the feedback window minus the older half (positive: worsening). */
  negative_feedback_trend: number | null;
  /** Consecutive rejected cycles since the last deployment. */
  recent_rejections: number;
  /** Gate deltas of the last deployed cycles, newest first (for the "flat gain" rule). */
  recent_gains: number[];
  /**
   * The champion's mean generation latency per item in ms, from its latest evaluation (the
   * worker's wall time over the suite's items; null: never measured). Serving targets do not
   * report latency yet: the evaluation's measurement is the one there is (ADR 0027).
   */
  latency_ms: number | null;
  /** The family's latency_target_ms (null: none set). */
  latency_target_ms: number | null;
  /** How far over its target the latency is, as a fraction of the target (0 within it; null: unknown). */
  latency_over_target: number | null;
  /**
   * Share of the target metrics the model's newest task with targets did not reach (0..1; null: no
   * such task). A deployed task that missed what a person asked for keeps its model ahead (ADR 0027).
   */
  targets_unmet: number | null;
}

/** Weights per signal; a signal missing from a kind's weights does not count for that kind. */
export type PriorityWeights = Record<string, number>;

/** Defaults (GENESIS_PRIORITY_WEIGHTS overrides them per kind). */
export const DEFAULT_PRIORITY_WEIGHTS: Record<TaskKind, PriorityWeights> = {
  // Training answers new data and falling quality; repeated rejections make another retrain less promising.
  training: {
    backlog: 1,
    staleness: 0.5,
    accuracy_gap: 4,
    accuracy_decline: 2,
    negative_feedback_rate: 1,
    negative_feedback_trend: 2,
    recent_rejections: -0.25,
    targets_unmet: 1,
  },
  // A configuration search answers exactly what makes retraining unpromising.
  architecture: { recent_rejections: 0.5, accuracy_gap: 2, negative_feedback_trend: 1 },
  // Latency over the family's target is what merging and quantising would answer.
  optimisation: { latency_over_target: 1 },
  distillation: {},
};

const LABELS: Record<string, string> = {
  backlog: 'backlog',
  staleness: 'staleness',
  accuracy_gap: 'accuracy gap',
  accuracy_decline: 'accuracy decline',
  negative_feedback_rate: 'negative feedback',
  negative_feedback_trend: 'negative feedback trend',
  recent_rejections: 'recent rejections',
  latency_ms: 'latency ms',
  latency_over_target: 'latency over target',
  targets_unmet: 'targets unmet',
};

/** The value each weight multiplies: the signals, plus the decline (−trend, only when falling). */
function signalValue(signals: ModelSignals, name: string): number | null {
  if (name === 'accuracy_decline')
    return signals.accuracy_trend === null ? null : Math.max(0, -signals.accuracy_trend);
  const v = (signals as unknown as Record<string, unknown>)[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Σ weight × signal, with every term kept for the explanation. Never negative. */
export function computePriority(
  signals: ModelSignals,
  weights: PriorityWeights,
): { priority: number; explanation: PriorityExplanation } {
  const terms: PriorityTerm[] = Object.entries(weights).map(([signal, weight]) => {
    const value = signalValue(signals, signal);
    return { signal, value, weight, contribution: value === null ? 0 : round(value * weight) };
  });
  const priority = round(
    Math.max(
      0,
      terms.reduce((sum, t) => sum + t.contribution, 0),
    ),
  );
  const shown = terms.filter((t) => t.value !== null && t.contribution !== 0);
  const summary =
    (shown.length
      ? shown.map((t) => `${LABELS[t.signal] ?? t.signal} ${t.value!.toFixed(2)}×${t.weight}`).join(' + ')
      : 'no signal') + ` = ${priority.toFixed(2)}`;
  return { priority, explanation: { source: 'signals', terms, summary } };
}

/** A priority given by a person (custom task, manual trigger). */
export function requestedPriority(priority: number, by: string): PriorityExplanation {
  return { source: 'requested', terms: [], summary: `${priority} as requested by ${by}` };
}

/**
 * Aging: the priority the scheduler orders by grows with the time a task has waited, so a low
 * priority task is eventually run even while higher ones keep arriving (none starves).
 */
export function effectivePriority(priority: number, waitedSeconds: number, agingPerHour: number): number {
  return priority + (agingPerHour * Math.max(0, waitedSeconds)) / 3600;
}
