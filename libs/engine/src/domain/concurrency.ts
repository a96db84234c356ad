/**
 * What the concurrency limit needs of a live worker: its slots and memory, from its heartbeat
 * (`workers.heartbeat`, validated against its schema by libs/jobs WorkerFleet; ADR 0023).
 */
export interface WorkerLoad {
  slots_total: number;
  slots_busy: number;
  /** The larger of host RAM and GPU memory in use, 0..1. */
  memory_used_fraction: number;
}

export interface ConcurrencyPolicy {
  /** GENESIS_MAX_CONCURRENT_TASKS. */
  maxConcurrentTasks: number;
  /** GENESIS_MEMORY_THRESHOLD: above this a worker is under memory pressure. */
  memoryThreshold: number;
}

export interface ConcurrencyLimit {
  limit: number;
  reason: string;
  workers: number;
  free_slots: number | null;
  max_memory_used_fraction: number | null;
}

/**
 * The number of tasks that may run at once now, from the live workers' heartbeats:
 *   - no heartbeat heard: the configured maximum (nothing is known against it);
 *   - a worker over the memory threshold: half the maximum (at least 1), so the running tasks
 *     finish before more memory is asked for;
 *   - no free slot on any live worker: no more than are running now (a new task would only wait).
 * Pure: the scheduler recomputes it on every pass, so it rises again as soon as the workers recover.
 */
export function concurrencyLimit(
  policy: ConcurrencyPolicy,
  live: readonly WorkerLoad[],
  running: number,
): ConcurrencyLimit {
  const max = policy.maxConcurrentTasks;
  if (live.length === 0)
    return {
      limit: max,
      reason: `no worker heartbeat heard: the configured maximum ${max}`,
      workers: 0,
      free_slots: null,
      max_memory_used_fraction: null,
    };
  const memory = Math.max(...live.map((w) => w.memory_used_fraction));
  const free = live.reduce((n, w) => n + Math.max(0, w.slots_total - w.slots_busy), 0);
  let limit = max;
  const reasons: string[] = [];
  if (memory > policy.memoryThreshold) {
    limit = Math.max(1, Math.floor(max / 2));
    reasons.push(`memory ${memory.toFixed(2)} > ${policy.memoryThreshold}: halved to ${limit}`);
  }
  if (free === 0 && running < limit) {
    limit = running;
    reasons.push(`no free worker slot: held at the ${running} running`);
  }
  return {
    limit,
    reason: reasons.length ? reasons.join('; ') : `workers have room: the configured maximum ${max}`,
    workers: live.length,
    free_slots: free,
    max_memory_used_fraction: memory,
  };
}
