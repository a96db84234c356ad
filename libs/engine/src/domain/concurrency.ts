/**
 * A worker's heartbeat (core NATS `workers.heartbeat`, not stored): what it can run and how full it
 * is. The worker publishes it every GENESIS_WORKER_HEARTBEAT_S; a worker silent for three intervals
 * is gone.
 */
export interface WorkerHeartbeat {
  worker_id: string;
  host: string;
  kinds: string[];
  slots_total: number;
  slots_busy: number;
  /** The larger of host RAM and GPU memory in use, 0..1. */
  memory_used_fraction: number;
  gpu_memory_used_fraction: number | null;
  sent_at: string;
}

/** Parses a heartbeat, or says in one line what is wrong with it. */
export function parseHeartbeat(value: unknown): WorkerHeartbeat | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v['worker_id'] !== 'string' || !v['worker_id']) return 'worker_id must be a non-empty string';
  if (typeof v['host'] !== 'string') return 'host must be a string';
  if (!Array.isArray(v['kinds']) || !v['kinds'].every((k) => typeof k === 'string'))
    return 'kinds must be an array of strings';
  for (const k of ['slots_total', 'slots_busy'] as const)
    if (!Number.isInteger(v[k]) || (v[k] as number) < 0) return `${k} must be an integer ≥ 0`;
  const mem = v['memory_used_fraction'];
  if (typeof mem !== 'number' || !(mem >= 0 && mem <= 1)) return 'memory_used_fraction must be in 0..1';
  const gpu = v['gpu_memory_used_fraction'];
  if (gpu !== null && gpu !== undefined && (typeof gpu !== 'number' || !(gpu >= 0 && gpu <= 1)))
    return 'gpu_memory_used_fraction must be null or in 0..1';
  if (typeof v['sent_at'] !== 'string' || Number.isNaN(Date.parse(v['sent_at'])))
    return 'sent_at must be an ISO-8601 time';
  return {
    worker_id: v['worker_id'],
    host: v['host'],
    kinds: v['kinds'] as string[],
    slots_total: v['slots_total'] as number,
    slots_busy: v['slots_busy'] as number,
    memory_used_fraction: mem,
    gpu_memory_used_fraction: (gpu as number | null | undefined) ?? null,
    sent_at: v['sent_at'],
  };
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
  live: readonly WorkerHeartbeat[],
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
