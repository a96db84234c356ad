import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import {
  claimIntervalIteration,
  claimIterationRequest,
  recordIteration,
  type IterationRow,
  type IterationTrigger,
} from '@genesis/engine';
import { counter, Log } from '@genesis/observability';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';
import { ThresholdChecker, type CheckOutcome } from '../check-thresholds/threshold-checker';
import { TaskScheduler } from './scheduler';
import { WorkerPool } from './worker-pool';

const iterations = counter('genesis_engine_iterations_total', 'Planning iterations, by what started them', [
  'trigger',
]);
for (const trigger of ['interval', 'forced']) iterations.inc({ trigger }, 0);
const skipped = counter(
  'genesis_engine_iterations_skipped_total',
  'Iterations this replica did not run because another replica holds the interval or claimed the request',
  ['trigger'],
);
for (const trigger of ['interval', 'forced']) skipped.inc({ trigger }, 0);

/**
 * Which claim an iteration needs (ADR 0027): `interval` the lease on the loop row (`boot` takes it
 * over), `request` the engine.iteration_requested event id, `none` a person's `--once`.
 */
export type IterationClaim = { interval: { boot: boolean } } | { request: string } | 'none';

/**
 * One planning iteration (the seed's improvement loop turn, ADR 0024): plan every registered model
 * (enqueue by priority, start what fits), end the tasks whose cycles ended, and record the
 * iteration — its task figures computed from the tables, its signals and resources as seen.
 */
@Injectable()
export class PlanningIterations {
  private readonly log = new Log('monitor', 'planner');
  /** This replica, as the interval lease names it. */
  readonly replicaId = `monitor-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ThresholdChecker) private readonly checker: ThresholdChecker,
    @Inject(TaskScheduler) private readonly scheduler: TaskScheduler,
    @Inject(WorkerPool) private readonly workers: WorkerPool,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
  ) {}

  /** Claims the iteration (ADR 0027); false: another replica runs it, this one does nothing. */
  async claim(trigger: IterationTrigger, claim: IterationClaim): Promise<boolean> {
    if (claim === 'none') return true;
    const won =
      'request' in claim
        ? await claimIterationRequest(this.dataSource, claim.request, this.replicaId)
        : await claimIntervalIteration(this.dataSource, {
            holder: this.replicaId,
            intervalSeconds: this.config.checkIntervalMinutes * 60,
            takeOver: claim.interval.boot,
          });
    if (!won) {
      skipped.inc({ trigger });
      this.log.debug('iteration claimed elsewhere', { trigger, replica: this.replicaId });
    }
    return won;
  }

  /** One iteration, once claimed; null when another replica holds it. */
  async iterate(
    trigger: IterationTrigger,
    claim: IterationClaim = 'none',
  ): Promise<{ iteration: IterationRow; outcomes: CheckOutcome[] } | null> {
    if (!(await this.claim(trigger, claim))) return null;
    const startedAt = this.clock.now();
    // Plan first (its transaction ends finished tasks before it enqueues), then a pass that ends
    // the rest and starts what still fits, so the iteration's figures include every ended task.
    const outcomes = await this.checker.checkAll();
    await this.scheduler.runPass();
    const limit = this.scheduler.currentLimit();
    const signals: Record<string, unknown> = {};
    for (const o of outcomes) {
      signals[o.model_id] = {
        decision: o.decision,
        signals: o.signals,
        training_priority: o.priority.priority,
        architecture: o.architecture,
        optimisation: o.optimisation,
      };
    }
    const iteration = await this.dataSource.transaction((m) =>
      recordIteration(m, {
        trigger,
        startedAt,
        endedAt: this.clock.now(),
        modelsChecked: outcomes.length,
        tasksEnqueued: outcomes.filter((o) => o.decision === 'opened' || o.decision === 'queued').length,
        signals,
        resources: { concurrency: limit, workers: this.workers.live(), replica: this.replicaId },
      }),
    );
    iterations.inc({ trigger });
    this.log.info('iteration', {
      iteration: iteration.iteration,
      trigger,
      models: outcomes.length,
      tasks_completed: iteration.tasks_completed,
      limit: limit.limit,
    });
    return { iteration, outcomes };
  }
}
