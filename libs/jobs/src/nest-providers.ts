import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Log } from '@genesis/observability';
import type { JobKind, JobRequestBase } from './job';
import { JobDeadlineSweeper } from './deadline-sweeper';
import { JobLifecycle } from './job-lifecycle';

const SWEEP_INTERVAL_MS = Symbol('JOB_SWEEP_INTERVAL_MS');
const SERVICE = Symbol('JOB_SERVICE');

/** Runs a service's deadline sweep while the application is up. */
@Injectable()
export class JobDeadlineSweeps implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly sweeper: JobDeadlineSweeper;

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    @Inject(JobLifecycle) lifecycle: JobLifecycle,
    @Inject(SWEEP_INTERVAL_MS) intervalMs: number,
    @Inject(SERVICE) service: string,
  ) {
    this.sweeper = new JobDeadlineSweeper(dataSource, lifecycle, intervalMs, new Log(service, 'deadlines'));
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): void {
    this.sweeper.stop();
  }
}

/**
 * A service's job kinds and their deadline sweep: `JobLifecycle` (inject it to queue and to
 * handle the worker's results) and `JobDeadlineSweeps`. Adding a kind is one more entry in `kinds`.
 */
export function jobProviders<C>(
  service: string,
  configToken: symbol,
  build: (config: C) => { kinds: JobKind<JobRequestBase>[]; sweepIntervalMs: number },
): Provider[] {
  return [
    { provide: SERVICE, useValue: service },
    {
      provide: JobLifecycle,
      useFactory: (config: C) => new JobLifecycle(build(config).kinds),
      inject: [configToken],
    },
    {
      provide: SWEEP_INTERVAL_MS,
      useFactory: (config: C) => build(config).sweepIntervalMs,
      inject: [configToken],
    },
    JobDeadlineSweeps,
  ];
}
