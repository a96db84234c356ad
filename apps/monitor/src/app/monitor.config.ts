import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { readTriggerPolicy, type CycleStatus, type TriggerPolicy } from '@genesis/cycles';
import { readEngineConfig, type EngineConfig } from './engine/engine.config';

export const MONITOR_CONFIG = Symbol('MONITOR_CONFIG');

/** Phases a cycle can be stuck in; each has a deadline after which the monitor fails the cycle. */
export const DEADLINE_PHASES = [
  'opened',
  'dataset_ready',
  'training',
  'trained',
  'evaluating',
  'evaluated',
  'deploying',
] as const satisfies readonly CycleStatus[];
export type DeadlinePhase = (typeof DEADLINE_PHASES)[number];

/** Minutes; training and evaluation get long budgets, hand-offs between services short ones. */
export const DEFAULT_DEADLINES: Record<DeadlinePhase, number> = {
  opened: 60,
  dataset_ready: 60,
  training: 24 * 60,
  trained: 60,
  evaluating: 6 * 60,
  evaluated: 60,
  deploying: 60,
};

/** Test hooks (see docs/adr/0004): the process SIGKILLs itself, or holds, at a named point. */
export type CrashPoint = 'before-commit' | 'after-commit';

export interface MonitorConfig extends ServiceConfig {
  policy: TriggerPolicy;
  checkIntervalMinutes: number;
  deadlinesMinutes: Record<DeadlinePhase, number>;
  /** Models checked even before anything is known about them. */
  models: string[];
  concurrency: number;
  /** Added to the wall clock for every decision (demo/test hook for the time trigger and deadlines). */
  clockOffsetMs: number;
  statusTtlSeconds: number;
  testCrashAt?: CrashPoint;
  testHoldBeforeCommitMs: number;
  /** The improvement engine: planner, scheduler, workers (ADR 0024). */
  engine: EngineConfig;
}

function parseDeadlines(value: unknown): Partial<Record<DeadlinePhase, number>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected a JSON object');
  for (const [phase, minutes] of Object.entries(value)) {
    if (!(DEADLINE_PHASES as readonly string[]).includes(phase)) {
      throw new Error(`"${phase}" is not one of ${DEADLINE_PHASES.join(', ')}`);
    }
    if (typeof minutes !== 'number' || !(minutes > 0))
      throw new Error(`"${phase}" must be a number of minutes > 0`);
  }
  return value as Partial<Record<DeadlinePhase, number>>;
}

export function readMonitorConfig(env: EnvReader): MonitorConfig {
  // GENESIS_IMPROVEMENT_INTERVAL (seconds, the second seed's name and its 300 s default) wins over the
  // older GENESIS_IMPROVEMENT_CHECK_INTERVAL (minutes).
  const intervalSeconds = env.optionalStr('GENESIS_IMPROVEMENT_INTERVAL');
  const checkIntervalMinutes =
    intervalSeconds !== undefined
      ? env.float('GENESIS_IMPROVEMENT_INTERVAL', 300, { min: 1 }) / 60
      : env.float('GENESIS_IMPROVEMENT_CHECK_INTERVAL', 5, { min: 0.01 });
  const crash = env.optionalStr('GENESIS_TEST_CRASH_AT');
  if (crash !== undefined && crash !== 'before-commit' && crash !== 'after-commit') {
    env.fail(`GENESIS_TEST_CRASH_AT must be before-commit or after-commit (got "${crash}")`);
  }
  return {
    ...readServiceConfig(env, 'monitor'),
    policy: readTriggerPolicy(env),
    checkIntervalMinutes,
    deadlinesMinutes: {
      ...DEFAULT_DEADLINES,
      ...env.json('GENESIS_CYCLE_PHASE_DEADLINES', {}, parseDeadlines),
    },
    models: env
      .str('GENESIS_MONITOR_MODELS', 'genesis')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
    concurrency: env.int('GENESIS_MONITOR_CONCURRENCY', 16, { min: 1, max: 1024 }),
    clockOffsetMs: env.int('GENESIS_CLOCK_OFFSET_MS', 0),
    // Every check rewrites the cache; past two intervals a silent monitor's entry expires and the
    // gateway computes the status from the database instead.
    statusTtlSeconds: Math.max(300, checkIntervalMinutes * 60 * 2),
    testCrashAt: crash as CrashPoint | undefined,
    testHoldBeforeCommitMs: env.int('GENESIS_TEST_HOLD_BEFORE_COMMIT_MS', 0, { min: 0, max: 60_000 }),
    engine: readEngineConfig(env),
  };
}
