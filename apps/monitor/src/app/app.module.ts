import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';
import { Clock } from './clock';
import { MONITOR_CONFIG, type MonitorConfig } from './monitor.config';
import { ThresholdChecker } from './check-thresholds/threshold-checker';
import { MonitorRuntime } from './check-thresholds/event-consumers';
import { DeadlineSweeper } from './stuck-cycles/deadline-sweeper';
import { CycleMetrics } from './metrics/cycle-metrics';
import { DlqMetrics } from './metrics/dlq-metrics';
import { DeadLetterCycles } from './dead-letters/dead-letter-cycles';
import { WorkerPool } from './engine/worker-pool';
import { TaskScheduler } from './engine/scheduler';
import { PlanningIterations } from './engine/iterations';
import { EngineMetrics } from './engine/engine-metrics';

/** The checking core, shared by the long-running service and the one-shot mode. */
function core(config: MonitorConfig) {
  return [
    { provide: MONITOR_CONFIG, useValue: config },
    Clock,
    WorkerPool,
    TaskScheduler,
    ThresholdChecker,
    DeadlineSweeper,
    PlanningIterations,
  ];
}

/**
 * The improvement engine's planner and scheduler (ADR 0024), grown from the monitor that opened
 * cycles when thresholds are met (ADR 0004): consumes the events that can change a decision,
 * plans on a timer, runs tasks by priority within the concurrency limit, fails stuck cycles and cycles whose messages were
 * dead-lettered, serves the spec's metrics and the DLQ depth.
 */
@Module({})
export class AppModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'monitor', config, redis: true })],
      controllers: [MetricsController],
      providers: [...core(config), MonitorRuntime, CycleMetrics, DlqMetrics, DeadLetterCycles, EngineMetrics],
    };
  }
}

/** `--once`: the same check, no consumers, no timer. */
@Module({})
export class OnceModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    return {
      module: OnceModule,
      imports: [
        InfraModule.forRoot({ service: 'monitor', config, redis: true, poolSize: 2, outbox: 'manual' }),
      ],
      providers: core(config),
    };
  }
}
