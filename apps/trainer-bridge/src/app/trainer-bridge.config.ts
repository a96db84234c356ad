import { NORMALISATION_LEVELS, type NormalisationLevel } from '@genesis/contracts';
import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { ARTIFACTS_BUCKET } from '@genesis/messaging';
import { nearDuplicateCalibration } from '@genesis/contracts';
import { parseExtraRules, secretRuleSet, type SecretRuleSet } from '@genesis/secrets';

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
  /**
   * The maintained scanner plus GENESIS_SECRET_EXTRA_RULES, the same as the learner's: a rescan cleans the
   * model outputs evaluations keep with it (ADR 0017).
   */
  secretRules: SecretRuleSet;
}

export function readBridgeConfig(env: EnvReader): BridgeConfig {
  const maxSteps = env.optionalStr('GENESIS_TRAINING_MAX_STEPS');
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
    secretRules: secretRuleSet(env.json('GENESIS_SECRET_EXTRA_RULES', [], parseExtraRules)),
  };
}
