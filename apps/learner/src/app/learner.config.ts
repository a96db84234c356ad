import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { readVectorSettings, type VectorSettings } from '@genesis/vectors';

export const LEARNER_CONFIG = Symbol('LEARNER_CONFIG');

export interface LearnerConfig extends ServiceConfig {
  concurrency: number;
  /** Learnings cleaned and written together at most, and how long a batch waits to fill. */
  batchSize: number;
  batchWaitMs: number;
  poolSize: number;
  /** Semantic memory: the embedder, the vector index, the near-duplicate threshold (ADR 0018). */
  vectors: VectorSettings;
}

export function readLearnerConfig(env: EnvReader): LearnerConfig {
  return {
    ...readServiceConfig(env, 'learner'),
    concurrency: env.int('GENESIS_LEARNER_CONCURRENCY', 512, { min: 1, max: 4096 }),
    batchSize: env.int('GENESIS_LEARNER_BATCH_SIZE', 256, { min: 1, max: 1000 }),
    batchWaitMs: env.int('GENESIS_LEARNER_BATCH_WAIT_MS', 20, { min: 0, max: 1000 }),
    poolSize: env.int('GENESIS_DB_POOL_SIZE', 20, { min: 1, max: 200 }),
    vectors: readVectorSettings(env),
  };
}
