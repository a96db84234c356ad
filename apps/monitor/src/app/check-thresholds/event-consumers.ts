import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Outbox } from '@genesis/persistence';
import {
  STREAMS,
  SUBJECTS,
  durableName,
  type CycleRequestedV1,
  type EventEnvelope,
} from '@genesis/contracts';
import { announceCycle, CycleTransitionError } from '@genesis/cycles';
import {
  ConsumerRunner,
  EventPublisher,
  NatsClient,
  PermanentError,
  type EventHandler,
} from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';
import { DeadlineSweeper } from '../stuck-cycles/deadline-sweeper';
import { ThresholdChecker, thresholdLatency } from './threshold-checker';
import { TaskScheduler } from '../engine/scheduler';
import { PlanningIterations } from '../engine/iterations';

/**
 * The monitor's long-running side: one durable consumer per relevant event (each event is an
 * immediate check of its model), the periodic check and deadline sweep.
 */
@Injectable()
export class MonitorRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('monitor');
  private readonly runners: ConsumerRunner[];
  private timer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private tickRunning?: Promise<void>;
  private sweepRunning?: Promise<void>;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(ThresholdChecker) private readonly checker: ThresholdChecker,
    @Inject(DeadlineSweeper) private readonly sweeper: DeadlineSweeper,
    @Inject(TaskScheduler) private readonly scheduler: TaskScheduler,
    @Inject(PlanningIterations) private readonly iterations: PlanningIterations,
  ) {
    const recheck: EventHandler = async (event) =>
      void (await this.checker.checkModel(event.model_id, event));
    // A cycle that ended frees a slot and ends its task: a scheduling pass, then the model's check.
    const ended: EventHandler = async (event) => {
      await this.scheduler.runPass(event);
      await this.checker.checkModel(event.model_id, event);
    };
    const handlers: [string, EventHandler][] = [
      [SUBJECTS.learningStored, recheck],
      [SUBJECTS.feedbackRecorded, recheck],
      [SUBJECTS.cycleFailed, ended],
      // A finished cycle or a rollback changes the status document (current_model, score, runs).
      [SUBJECTS.modelDeployed, ended],
      [SUBJECTS.modelRejected, ended],
      [SUBJECTS.modelRolledBack, recheck],
      [SUBJECTS.cycleRequested, (event) => this.announceManual(event as EventEnvelope<CycleRequestedV1>)],
      // The engine (ADR 0024): a task someone queued may start now; someone asked for an iteration.
      [SUBJECTS.taskQueued, async (event) => void (await this.scheduler.runPass(event))],
      // One iteration per request, even redelivered or seen by two replicas (ADR 0027).
      [
        SUBJECTS.engineIterationRequested,
        async (event) => void (await this.iterations.iterate('forced', { request: event.id })),
      ],
    ];
    this.runners = handlers.map(
      ([subject, handler]) =>
        new ConsumerRunner(nats, publisher, this.log, {
          stream: STREAMS.events,
          durable: durableName('monitor', subject),
          concurrency: config.concurrency,
          handler,
        }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const runner of this.runners) await runner.start();
    this.scheduler.start();
    // A check at boot: picks up whatever a crash interrupted, without waiting for an interval.
    this.tick(true);
    this.timer = setInterval(() => this.tick(false), this.config.checkIntervalMinutes * 60_000);
    // Deadlines are minutes to hours: sweeping once a minute keeps "stuck" precise at the cost of one query.
    this.sweepTimer = setInterval(
      () => this.sweep(),
      Math.min(60_000, this.config.checkIntervalMinutes * 60_000),
    );
    this.log.info('monitoring', {
      check_interval_min: this.config.checkIntervalMinutes,
      thresholds: this.config.policy.defaults,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all(this.runners.map((r) => r.stop()));
    await Promise.all([this.tickRunning, this.sweepRunning, this.scheduler.stop()]);
  }

  /**
   * The periodic iteration: stuck cycles first (a failed one frees its model), then every model —
   * by the replica holding the interval lease only (ADR 0027). A boot check takes the lease over:
   * recovering from a crash must not wait for the old holder's lease to run out.
   */
  private tick(boot: boolean): void {
    if (this.tickRunning) return;
    this.tickRunning = (async () => {
      try {
        if (!(await this.iterations.claim('interval', { interval: { boot } }))) return;
        await this.sweeper.sweep();
        const done = await this.iterations.iterate('interval');
        for (const outcome of done?.outcomes ?? []) {
          this.log.debug('checked', {
            model_id: outcome.model_id,
            decision: outcome.decision,
            reason: outcome.reason,
          });
        }
      } catch (err) {
        this.log.warn('periodic check failed; will retry at the next interval', {
          error: (err as Error).message,
        });
      } finally {
        this.tickRunning = undefined;
      }
    })();
  }

  /** Between checks; overlapping a check's own sweep is harmless (transitions are idempotent). */
  private sweep(): void {
    if (this.sweepRunning) return;
    this.sweepRunning = this.sweeper
      .sweep()
      .then(() => undefined)
      .catch((err: Error) => this.log.warn('deadline sweep failed; will retry', { error: err.message }))
      .finally(() => (this.sweepRunning = undefined));
  }

  /** cycle.requested: the gateway opened a manual cycle; the monitor announces it (once). */
  private async announceManual(event: EventEnvelope<CycleRequestedV1>): Promise<void> {
    const now = this.clock.now();
    let announced: boolean;
    try {
      announced = await this.dataSource.transaction((m) =>
        announceCycle(m, event.data.cycle_id, 'monitor', now, event),
      );
    } catch (err) {
      if (err instanceof CycleTransitionError) throw new PermanentError(err.code, err.message);
      throw err;
    }
    if (announced) {
      this.outbox.kick();
      thresholdLatency.observe(
        { trigger: 'manual' },
        Math.max(0, (Date.now() - Date.parse(event.data.requested_at)) / 1000),
      );
    }
    await this.checker.refreshStatus(event.model_id);
  }
}
