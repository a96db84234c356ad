import type { EnvReader } from '@genesis/config';
import { getFamily, thresholdProblem, type Db } from '@genesis/registry';
import { Log } from '@genesis/observability';
import {
  DEFAULT_REJECTION_BACKOFF,
  DEFAULT_THRESHOLDS,
  thresholdsFor,
  type TriggerPolicy,
  type TriggerThresholds,
} from './domain/trigger-policy';

const log = new Log('cycles', 'trigger-policy');

const OVERRIDE_KEYS: Record<string, keyof TriggerThresholds> = {
  learning_threshold: 'learningThreshold',
  time_threshold_days: 'timeThresholdDays',
  performance_threshold: 'performanceThreshold',
  feedback_window: 'feedbackWindow',
  feedback_min_samples: 'feedbackMinSamples',
  min_new_evidence: 'minNewEvidence',
};

/** `{"<model_id>": {"learning_threshold": 50, …}}` — per-model overrides of the defaults. */
function parseOverrides(value: unknown): Record<string, Partial<TriggerThresholds>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected a JSON object');
  const out: Record<string, Partial<TriggerThresholds>> = {};
  for (const [model, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) throw new Error(`"${model}" must map to an object`);
    const t: Partial<TriggerThresholds> = {};
    for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
      const key = OVERRIDE_KEYS[k];
      if (!key) throw new Error(`"${model}.${k}" is not one of ${Object.keys(OVERRIDE_KEYS).join(', ')}`);
      const problem = thresholdProblem(k, v);
      if (problem) throw new Error(`"${model}.${k}" ${problem}`);
      t[key] = v as number;
    }
    out[model] = t;
  }
  return out;
}

/** The trigger policy from the environment (read by the monitor and by the gateway's status fallback). */
export function readTriggerPolicy(env: EnvReader): TriggerPolicy {
  return {
    defaults: {
      learningThreshold: env.int('GENESIS_LEARNING_THRESHOLD', DEFAULT_THRESHOLDS.learningThreshold, {
        min: 1,
      }),
      timeThresholdDays: env.float('GENESIS_TIME_THRESHOLD_DAYS', DEFAULT_THRESHOLDS.timeThresholdDays, {
        min: 0,
      }),
      performanceThreshold: env.float(
        'GENESIS_PERFORMANCE_THRESHOLD',
        DEFAULT_THRESHOLDS.performanceThreshold,
        {
          min: 0,
          max: 1,
        },
      ),
      feedbackWindow: env.int('GENESIS_FEEDBACK_WINDOW', DEFAULT_THRESHOLDS.feedbackWindow, {
        min: 1,
        max: 100_000,
      }),
      feedbackMinSamples: env.int('GENESIS_FEEDBACK_MIN_SAMPLES', DEFAULT_THRESHOLDS.feedbackMinSamples, {
        min: 1,
      }),
      minNewEvidence: env.int('GENESIS_MIN_NEW_EVIDENCE', DEFAULT_THRESHOLDS.minNewEvidence, { min: 0 }),
    },
    perModel: env.json('GENESIS_TRIGGER_OVERRIDES', {}, parseOverrides),
    failedCooldownMinutes: env.float('GENESIS_FAILED_CYCLE_COOLDOWN_MINUTES', 30, { min: 0 }),
    rejectionBackoff: readRejectionBackoff(env),
  };
}

/** GENESIS_REJECTION_BACKOFF_MINUTES (0 turns it off) doubling per rejection, capped at …_MAX_MINUTES. */
function readRejectionBackoff(env: EnvReader): TriggerPolicy['rejectionBackoff'] {
  const baseMinutes = env.float('GENESIS_REJECTION_BACKOFF_MINUTES', DEFAULT_REJECTION_BACKOFF.baseMinutes, {
    min: 0,
  });
  const maxMinutes = env.float(
    'GENESIS_REJECTION_BACKOFF_MAX_MINUTES',
    DEFAULT_REJECTION_BACKOFF.maxMinutes,
    { min: 0 },
  );
  if (maxMinutes < baseMinutes) {
    env.fail(
      `GENESIS_REJECTION_BACKOFF_MAX_MINUTES (${maxMinutes}) must be at least GENESIS_REJECTION_BACKOFF_MINUTES (${baseMinutes})`,
    );
  }
  return { baseMinutes, maxMinutes };
}

/**
 * A model's thresholds: the GENESIS_* defaults, then its GENESIS_TRIGGER_OVERRIDES entry, then its
 * registered family's own thresholds (ADR 0022: the family is the newer, per-model definition,
 * and changes through the API without a restart). Read on every check: families change at run time.
 */
export async function thresholdsOf(
  db: Db,
  policy: TriggerPolicy,
  modelId: string,
): Promise<TriggerThresholds> {
  const t = thresholdsFor(policy, modelId);
  const own = (await getFamily(db, modelId))?.thresholds ?? {};
  for (const [k, v] of Object.entries(own)) {
    const key = OVERRIDE_KEYS[k];
    if (!key) continue;
    // A row registered before the ranges were checked may hold a value no query can use: the
    // default stands in for it, rather than failing this model's checks and every other model's.
    const problem = thresholdProblem(k, v);
    if (problem) log.warn('ignored an unusable family threshold', { model_id: modelId, key: k, problem });
    else t[key] = v as number;
  }
  return t;
}
