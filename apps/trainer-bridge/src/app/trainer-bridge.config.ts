import { NORMALISATION_LEVELS, type NormalisationLevel } from '@genesis/contracts';
import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { ARTIFACTS_BUCKET } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { nearDuplicateCalibration } from '@genesis/contracts';
import { parseExtraRules, secretRuleSet, type SecretRuleSet } from '@genesis/secrets';
import type { SlicingSettings } from './build-snapshot/slicing';

export const BRIDGE_CONFIG = Symbol('BRIDGE_CONFIG');

export interface BridgeConfig extends ServiceConfig {
  baseModel: string;
  artifactsBucket: string;
  evalFraction: number;
  /** Cosine similarity to a held-out item at or above which a learning is left out (ADR 0018). */
  decontaminationSimilarity: number;
  /** How long to wait for the embedder when a shipped suite is embedded (once per model, ADR 0018). */
  embeddingTimeoutMs: number;
  replayShare: number;
  /** How far decontamination normalises before comparing with evaluation items (ADR 0016). */
  decontaminationLevel: NormalisationLevel;
  deadlineMinutes: number;
  maxAttempts: number;
  seed: number;
  maxSteps?: number;
  sweepIntervalMs: number;
  /** Topic slices of every snapshot (ADR 0020). */
  slicing: SlicingSettings;
  /**
   * The maintained scanner plus GENESIS_SECRET_EXTRA_RULES, the same as the learner's: a rescan cleans the
   * model outputs evaluations keep with it (ADR 0017).
   */
  secretRules: SecretRuleSet;
  /** Defaults of an architecture cycle's study (ADR 0025); a request may set its own budget. */
  study: StudyDefaults;
}

export interface StudyDefaults {
  trials: number;
  workerSeconds: number;
  minSteps: number;
  maxSteps: number;
  evalEvery: number;
  /** The learning-rate range TPE samples (log scale). */
  learningRate: [number, number];
  /**
   * Narrower choices than the worker's defaults (ranks 4-64, alpha ratios 0.5-4, all three
   * target-module sets, dropout 0-0.1), when a deployment knows where its model can learn;
   * undefined leaves the worker's.
   */
  ranks?: number[];
  alphaRatios?: number[];
  targetSets?: TargetSet[];
  dropoutMax?: number;
  /** Trials of one study in flight at once (a request's budget may set its own). */
  parallelism: number;
  /** One trial job's deadline (each trial is a job of its own, ADR 0025). */
  trialDeadlineMinutes: number;
}

export const TARGET_SETS = ['attention', 'mlp', 'all'] as const;
export type TargetSet = (typeof TARGET_SETS)[number];

/** A comma-separated list setting, each item checked; undefined when unset. */
function listSetting<T>(env: EnvReader, name: string, item: (raw: string) => T | undefined): T[] | undefined {
  const raw = env.optionalStr(name);
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  const items = parts.map(item);
  if (!parts.length || items.some((i) => i === undefined)) {
    env.fail(`${name} must be a comma-separated list of valid values (got "${raw}")`);
    return undefined;
  }
  return items as T[];
}

export function readBridgeConfig(env: EnvReader): BridgeConfig {
  const maxSteps = env.optionalStr('GENESIS_TRAINING_MAX_STEPS');
  // A study is no longer one job with one deadline; each trial job has its own (ADR 0025, amended).
  if (env.optionalStr('GENESIS_STUDY_DEADLINE_MINUTES') !== undefined)
    new Log('trainer-bridge', 'config').warn(
      'GENESIS_STUDY_DEADLINE_MINUTES is no longer read: each trial job has GENESIS_STUDY_TRIAL_DEADLINE_MINUTES (default 30)',
    );
  return {
    ...readServiceConfig(env, 'trainer-bridge'),
    baseModel: env.str('GENESIS_BASE_MODEL', 'tiny'),
    artifactsBucket: env.str('GENESIS_ARTIFACTS_BUCKET', ARTIFACTS_BUCKET),
    evalFraction: env.float('GENESIS_EVAL_FRACTION', 0.1, { min: 0, max: 0.5 }),
    decontaminationSimilarity: env.float(
      'GENESIS_DECONTAMINATION_SIMILARITY',
      nearDuplicateCalibration().similarity,
      { min: 0.5, max: 1.01 },
    ),
    embeddingTimeoutMs: env.int('GENESIS_EMBEDDING_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
    replayShare: env.float('GENESIS_REPLAY_SHARE', 1, { min: 0, max: 1 }),
    decontaminationLevel: env.oneOf('GENESIS_DECONTAMINATION_LEVEL', NORMALISATION_LEVELS, 'identifiers'),
    deadlineMinutes: env.float('GENESIS_TRAINING_DEADLINE_MINUTES', 60, { min: 0.05 }),
    maxAttempts: env.int('GENESIS_TRAINING_MAX_ATTEMPTS', 3, { min: 1, max: 20 }),
    seed: env.int('GENESIS_TRAINING_SEED', 1234, { min: 0 }),
    maxSteps: maxSteps === undefined ? undefined : env.int('GENESIS_TRAINING_MAX_STEPS', 40, { min: 1 }),
    sweepIntervalMs: env.int('GENESIS_TRAINING_SWEEP_INTERVAL_MS', 15_000, { min: 100 }),
    study: {
      trials: env.int('GENESIS_STUDY_TRIALS', 12, { min: 1, max: 500 }),
      workerSeconds: env.float('GENESIS_STUDY_WORKER_SECONDS', 3600, { min: 1 }),
      minSteps: env.int('GENESIS_STUDY_MIN_STEPS', 20, { min: 1 }),
      maxSteps: env.int('GENESIS_STUDY_MAX_STEPS', 200, { min: 1 }),
      evalEvery: env.int('GENESIS_STUDY_EVAL_EVERY', 10, { min: 1 }),
      learningRate: [
        env.float('GENESIS_STUDY_LEARNING_RATE_MIN', 1e-5, { min: 1e-9, max: 1 }),
        env.float('GENESIS_STUDY_LEARNING_RATE_MAX', 1e-1, { min: 1e-9, max: 1 }),
      ],
      ranks: listSetting(env, 'GENESIS_STUDY_RANKS', (r) =>
        /^\d+$/.test(r) && +r >= 1 && +r <= 1024 ? +r : undefined,
      ),
      alphaRatios: listSetting(env, 'GENESIS_STUDY_ALPHA_RATIOS', (r) =>
        r !== '' && Number.isFinite(+r) && +r > 0 && +r <= 64 ? +r : undefined,
      ),
      targetSets: listSetting(env, 'GENESIS_STUDY_TARGET_SETS', (r) =>
        (TARGET_SETS as readonly string[]).includes(r) ? (r as TargetSet) : undefined,
      ),
      dropoutMax:
        env.optionalStr('GENESIS_STUDY_DROPOUT_MAX') === undefined
          ? undefined
          : env.float('GENESIS_STUDY_DROPOUT_MAX', 0.1, { min: 0, max: 1 }),
      parallelism: env.int('GENESIS_STUDY_PARALLELISM', 2, { min: 1, max: 64 }),
      trialDeadlineMinutes: env.float('GENESIS_STUDY_TRIAL_DEADLINE_MINUTES', 30, { min: 0.05 }),
    },
    slicing: {
      // ~3 KB per learning (vector + label text): 300 stay under NATS' default 1 MB payload.
      sample: env.int('GENESIS_SLICE_SAMPLE', 300, { min: 2, max: 5000 }),
      maxK: env.int('GENESIS_SLICE_MAX_K', 8, { min: 1, max: 50 }),
      // 50: at the default 10 % held out, a slice of 50 learnings holds about 5 held-out items, the
      // fewest on which an exact one-sided test can reach p < 0.05 (½⁵ = 0.031).
      minSize: env.int('GENESIS_SLICE_MIN_SIZE', 50, { min: 2, max: 10_000 }),
      minSilhouette: env.float('GENESIS_SLICE_MIN_SILHOUETTE', 0.05, { min: -1, max: 1 }),
      seed: env.int('GENESIS_SLICE_SEED', 0, { min: 0 }),
      timeoutMs: env.int('GENESIS_SLICE_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
    },
    secretRules: secretRuleSet(env.json('GENESIS_SECRET_EXTRA_RULES', [], parseExtraRules)),
  };
}
