import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { parseExtraRules, secretRuleSet, type SecretRuleSet } from '@genesis/secrets';
import { readVectorSettings, type VectorSettings } from '@genesis/vectors';

export const LEARNER_CONFIG = Symbol('LEARNER_CONFIG');

export interface LearnerConfig extends ServiceConfig {
  concurrency: number;
  /** Learnings cleaned and written together at most, and how long a batch waits to fill. */
  batchSize: number;
  batchWaitMs: number;
  poolSize: number;
  /** The maintained secret scanner plus GENESIS_SECRET_EXTRA_RULES (ADR 0017). */
  secretRules: SecretRuleSet;
  /** Learnings a rescan cleans per transaction (its cursor moves once per batch). */
  rescanBatchSize: number;
  /** Pause between rescan batches, so a rescan of millions of rows leaves room for live captures. */
  rescanPauseMs: number;
  /** Semantic memory: the embedder, the vector index, the near-duplicate threshold (ADR 0018). */
  vectors: VectorSettings;
  /** How often the index lag (genesis_vector_index_lag, readiness) is measured. */
  indexLagIntervalMs: number;
}

export function readLearnerConfig(env: EnvReader): LearnerConfig {
  return {
    ...readServiceConfig(env, 'learner'),
    concurrency: env.int('GENESIS_LEARNER_CONCURRENCY', 512, { min: 1, max: 4096 }),
    batchSize: env.int('GENESIS_LEARNER_BATCH_SIZE', 256, { min: 1, max: 1000 }),
    batchWaitMs: env.int('GENESIS_LEARNER_BATCH_WAIT_MS', 20, { min: 0, max: 1000 }),
    poolSize: env.int('GENESIS_DB_POOL_SIZE', 20, { min: 1, max: 200 }),
    secretRules: secretRuleSet(env.json('GENESIS_SECRET_EXTRA_RULES', [], parseExtraRules)),
    rescanBatchSize: env.int('GENESIS_RESCAN_BATCH_SIZE', 500, { min: 1, max: 5000 }),
    rescanPauseMs: env.int('GENESIS_RESCAN_PAUSE_MS', 0, { min: 0, max: 60_000 }),
    vectors: readVectorSettings(env),
    indexLagIntervalMs: env.int('GENESIS_INDEX_LAG_INTERVAL_MS', 10_000, { min: 100, max: 600_000 }),
  };
}
