import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';

export const LEARNER_CONFIG = Symbol('LEARNER_CONFIG');

export interface LearnerConfig extends ServiceConfig {
  concurrency: number;
  poolSize: number;
}

export function readLearnerConfig(env: EnvReader): LearnerConfig {
  return {
    ...readServiceConfig(env, 'learner'),
    concurrency: env.int('GENESIS_LEARNER_CONCURRENCY', 64, { min: 1, max: 1024 }),
    poolSize: env.int('GENESIS_DB_POOL_SIZE', 20, { min: 1, max: 200 }),
  };
}
