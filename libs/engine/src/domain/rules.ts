import type { ModelSignals } from './priority';

/** When a model needs a configuration search instead of (or besides) another retrain. */
export interface ArchitectureRulePolicy {
  /** Consecutive rejected training cycles that call for a search (GENESIS_ARCHITECTURE_AFTER_REJECTIONS). */
  afterRejections: number;
  /** Deployed cycles looked at for a flat gain trend (GENESIS_ARCHITECTURE_FLAT_WINDOW; 0: off). */
  flatWindow: number;
  /** A deployment gaining less than this is "flat" (GENESIS_ARCHITECTURE_FLAT_GAIN). */
  flatGain: number;
}

export const DEFAULT_ARCHITECTURE_RULE: ArchitectureRulePolicy = {
  afterRejections: 3,
  flatWindow: 3,
  flatGain: 0.005,
};

export interface RuleVerdict {
  needed: boolean;
  reason: string;
}

/**
 * The architecture kind's planner rule: retraining with the same configuration has stopped
 * helping — several candidates in a row were rejected, or the last deployments each gained
 * (almost) nothing. Manual requests go through the API instead.
 */
export function architectureRule(signals: ModelSignals, policy: ArchitectureRulePolicy): RuleVerdict {
  if (policy.afterRejections > 0 && signals.recent_rejections >= policy.afterRejections) {
    return {
      needed: true,
      reason: `${signals.recent_rejections} training cycles in a row rejected (≥ ${policy.afterRejections}): search the LoRA configuration`,
    };
  }
  const window = signals.recent_gains.slice(0, policy.flatWindow);
  if (
    policy.flatWindow > 0 &&
    window.length >= policy.flatWindow &&
    window.every((g) => g < policy.flatGain)
  ) {
    return {
      needed: true,
      reason: `the last ${window.length} deployments gained ${window.map((g) => g.toFixed(4)).join(', ')} (each < ${policy.flatGain}): the gain trend is flat`,
    };
  }
  return {
    needed: false,
    reason: `${signals.recent_rejections}/${policy.afterRejections} rejections in a row, gain trend not flat`,
  };
}

/**
 * The optimisation kind's planner rule (ADR 0027): the champion's measured latency is over its
 * family's target. The kind is not runnable yet, so the planner records the need (iteration
 * history, engine status) and enqueues nothing.
 */
export function optimisationRule(signals: ModelSignals): RuleVerdict {
  const { latency_ms: latency, latency_target_ms: target } = signals;
  if (latency === null || target === null)
    return {
      needed: false,
      reason:
        target === null
          ? 'no latency target set for the family'
          : "the champion's latency is not measured yet",
    };
  if (latency > target)
    return {
      needed: true,
      reason: `champion latency ${latency.toFixed(1)} ms per item > target ${target} ms: optimisation needed (not runnable yet: recorded, not queued)`,
    };
  return {
    needed: false,
    reason: `champion latency ${latency.toFixed(1)} ms per item ≤ target ${target} ms`,
  };
}
