import type { EnvReader } from '@genesis/config';
import {
  DEFAULT_ARCHITECTURE_RULE,
  DEFAULT_PRIORITY_WEIGHTS,
  TASK_KINDS,
  isTaskKind,
  type ArchitectureRulePolicy,
  type ConcurrencyPolicy,
  type PriorityWeights,
  type TaskKind,
} from '@genesis/engine';

/** The improvement engine's settings (ADR 0024; README lists them). */
export interface EngineConfig {
  concurrency: ConcurrencyPolicy;
  /** Seconds between worker heartbeats; a worker silent for three is gone. */
  workerHeartbeatSeconds: number;
  /** How often the scheduler looks for a free slot besides the events that free one. */
  schedulerIntervalSeconds: number;
  /** Priority points a queued task gains per hour of waiting (aging: none starves). */
  agingPerHour: number;
  weights: Record<TaskKind, PriorityWeights>;
  architecture: ArchitectureRulePolicy;
}

/** `{"training": {"backlog": 2}, "architecture": {…}}` — per-kind weights over the defaults. */
function parseWeights(value: unknown): Partial<Record<TaskKind, PriorityWeights>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected a JSON object');
  const out: Partial<Record<TaskKind, PriorityWeights>> = {};
  for (const [kind, weights] of Object.entries(value as Record<string, unknown>)) {
    if (!isTaskKind(kind)) throw new Error(`"${kind}" is not one of ${TASK_KINDS.join(', ')}`);
    if (typeof weights !== 'object' || weights === null || Array.isArray(weights))
      throw new Error(`"${kind}" must map signal names to numbers`);
    for (const [signal, w] of Object.entries(weights))
      if (typeof w !== 'number' || !Number.isFinite(w))
        throw new Error(`"${kind}.${signal}" must be a number`);
    out[kind] = weights as PriorityWeights;
  }
  return out;
}

export function readEngineConfig(env: EnvReader): EngineConfig {
  const overrides = env.json('GENESIS_PRIORITY_WEIGHTS', {}, parseWeights);
  const weights = Object.fromEntries(
    TASK_KINDS.map((k) => [k, { ...DEFAULT_PRIORITY_WEIGHTS[k], ...(overrides[k] ?? {}) }]),
  ) as Record<TaskKind, PriorityWeights>;
  return {
    concurrency: {
      maxConcurrentTasks: env.int('GENESIS_MAX_CONCURRENT_TASKS', 3, { min: 1, max: 1000 }),
      memoryThreshold: env.float('GENESIS_MEMORY_THRESHOLD', 0.8, { min: 0.01, max: 1 }),
    },
    workerHeartbeatSeconds: env.float('GENESIS_WORKER_HEARTBEAT_S', 5, { min: 0.1 }),
    schedulerIntervalSeconds: env.float('GENESIS_SCHEDULER_INTERVAL_S', 5, { min: 0.1 }),
    agingPerHour: env.float('GENESIS_PRIORITY_AGING_PER_HOUR', 0.1, { min: 0 }),
    weights,
    architecture: {
      afterRejections: env.int(
        'GENESIS_ARCHITECTURE_AFTER_REJECTIONS',
        DEFAULT_ARCHITECTURE_RULE.afterRejections,
        {
          min: 0,
        },
      ),
      flatWindow: env.int('GENESIS_ARCHITECTURE_FLAT_WINDOW', DEFAULT_ARCHITECTURE_RULE.flatWindow, {
        min: 0,
      }),
      flatGain: env.float('GENESIS_ARCHITECTURE_FLAT_GAIN', DEFAULT_ARCHITECTURE_RULE.flatGain, { min: 0 }),
    },
  };
}
