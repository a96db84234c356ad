import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { recordIteration, type IterationRow, type IterationTrigger } from '@genesis/engine';
import { counter, Log } from '@genesis/observability';
import { Clock } from '../clock';
import { ThresholdChecker, type CheckOutcome } from '../check-thresholds/threshold-checker';
import { TaskScheduler } from './scheduler';
import { WorkerPool } from './worker-pool';

const iterations = counter('genesis_engine_iterations_total', 'Planning iterations, by what started them', [
  'trigger',
]);
for (const trigger of ['interval', 'forced']) iterations.inc({ trigger }, 0);

/**
 * One planning iteration (the seed's improvement loop turn, ADR 0024): plan every registered model
 * (enqueue by priority, start what fits), end the tasks whose cycles ended, and record the
 * iteration — its task figures computed from the tables, its signals and resources as seen.
 */
@Injectable()
export class PlanningIterations {
  private readonly log = new Log('monitor', 'planner');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ThresholdChecker) private readonly checker: ThresholdChecker,
    @Inject(TaskScheduler) private readonly scheduler: TaskScheduler,
    @Inject(WorkerPool) private readonly workers: WorkerPool,
  ) {}

  async iterate(trigger: IterationTrigger): Promise<{ iteration: IterationRow; outcomes: CheckOutcome[] }> {
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
        resources: { concurrency: limit, workers: this.workers.live() },
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
