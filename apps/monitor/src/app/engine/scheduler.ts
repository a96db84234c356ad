import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '@genesis/contracts';
import {
  concurrencyLimit,
  endTasksOfEndedCycles,
  markTaskStarted,
  queuedTasks,
  readLoop,
  runningTaskCount,
  type ConcurrencyLimit,
  type TaskRow,
} from '@genesis/engine';
import { gauge, histogram, Log } from '@genesis/observability';
import { Outbox } from '@genesis/persistence';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';
import { KIND_STARTERS } from './kinds';
import { WorkerPool } from './worker-pool';

const limitGauge = gauge(
  'genesis_engine_concurrency_limit',
  'Tasks allowed to run at once now (GENESIS_MAX_CONCURRENT_TASKS, lowered under memory pressure or without free worker slots)',
);
const durations = histogram(
  'genesis_engine_task_duration_seconds',
  'Time from a task starting to its end, by kind and outcome',
  ['kind', 'outcome'],
  [10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400],
);

export interface SchedulePass {
  started: TaskRow[];
  ended: TaskRow[];
  limit: ConcurrencyLimit;
  running: number;
}

/**
 * Runs queued tasks by aged priority, at most the concurrency limit in force at once, across
 * models (ADR 0024). Every pass is one transaction under a transaction-scoped advisory lock, so
 * two replicas never count the same free slot twice, and a task's move to running commits with
 * its cycle and threshold.reached or not at all. Tasks end when their cycles end (reconciled at
 * the start of every pass, exactly once).
 */
@Injectable()
export class TaskScheduler {
  private readonly log = new Log('monitor', 'scheduler');
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private lastLimit?: ConcurrencyLimit;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(WorkerPool) private readonly workers: WorkerPool,
  ) {
    limitGauge.set(config.engine.concurrency.maxConcurrentTasks);
  }

  /** The long-running service's timer and heartbeat reaction (not in `--once`). */
  start(): void {
    this.timer = setInterval(() => this.kick(), this.config.engine.schedulerIntervalSeconds * 1000);
    // A heartbeat can raise the limit (memory recovered, a slot freed): look at once.
    this.workers.onChange(() => {
      const before = this.lastLimit?.limit;
      const now = concurrencyLimit(this.config.engine.concurrency, this.workers.live(), 0).limit;
      if (before === undefined || now !== before) this.kick();
    });
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  /** The limit the last pass applied (for the API's resources and the history). */
  currentLimit(): ConcurrencyLimit {
    return this.lastLimit ?? concurrencyLimit(this.config.engine.concurrency, this.workers.live(), 0);
  }

  /** Asks for a pass soon; passes never overlap in this process, a burst collapses into one more. */
  kick(): void {
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = (async () => {
      do {
        this.again = false;
        try {
          await this.runPass();
        } catch (err) {
          this.log.warn('scheduling pass failed; will retry', { error: (err as Error).message });
        }
      } while (this.again);
    })().finally(() => (this.pass = undefined));
  }

  /** One pass in its own transaction: end what ended, start what fits. */
  async runPass(cause?: EventEnvelope<unknown>): Promise<SchedulePass> {
    const now = this.clock.now();
    const pass = await this.dataSource.transaction(async (m) => {
      const ended = await endTasksOfEndedCycles(m, { now, source: 'monitor' });
      const scheduled = await this.startQueued(m, now, cause);
      return { ...scheduled, ended };
    });
    if (pass.started.length || pass.ended.length) this.outbox.kick();
    for (const t of pass.ended) {
      durations.observe({ kind: t.kind, outcome: t.status }, t.result?.execution_seconds ?? 0);
      this.log.info('task ended', {
        task_id: t.id,
        model_id: t.model_id,
        kind: t.kind,
        status: t.status,
        cycle_id: t.cycle_id,
      });
    }
    return pass;
  }

  /**
   * Starts queued tasks, highest aged priority first, up to the limit, inside the caller's
   * transaction (the planner's, so a newly queued task competes with the older ones at once).
   * While the loop is stopped only tasks a person asked for start.
   */
  async startQueued(
    m: EntityManager,
    now: Date,
    cause?: EventEnvelope<unknown>,
  ): Promise<{ started: TaskRow[]; limit: ConcurrencyLimit; running: number }> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('genesis-engine-scheduler'))`);
    const running = await runningTaskCount(m);
    const limit = concurrencyLimit(this.config.engine.concurrency, this.workers.live(), running);
    this.noteLimit(limit);
    const started: TaskRow[] = [];
    let free = limit.limit - running;
    if (free <= 0) return { started, limit, running };
    const loop = await readLoop(m);
    const queued = await queuedTasks(m, {
      now,
      agingPerHour: this.config.engine.agingPerHour,
      personsOnly: !loop.running,
    });
    for (const task of queued) {
      if (free <= 0) break;
      const start = KIND_STARTERS[task.kind];
      if (!start) continue;
      const cycleId = await start(m, task, now, cause);
      if (!cycleId) continue;
      const row = await markTaskStarted(m, task.id, cycleId, { now, source: 'monitor', cause });
      if (!row) continue;
      started.push(row);
      free--;
      this.log.info('task started', {
        task_id: row.id,
        model_id: row.model_id,
        kind: row.kind,
        cycle_id: cycleId,
        priority: row.priority,
        limit: limit.limit,
      });
    }
    return { started, limit, running: running + started.length };
  }

  private noteLimit(limit: ConcurrencyLimit): void {
    if (this.lastLimit?.limit !== limit.limit)
      this.log.info('concurrency limit', { limit: limit.limit, reason: limit.reason });
    this.lastLimit = limit;
    limitGauge.set(limit.limit);
  }
}
