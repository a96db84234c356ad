import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Log } from '@genesis/observability';
import { BRIDGE_CONFIG, type BridgeConfig } from '../trainer-bridge.config';
import { TrainingEventsHandler } from './training-events.handler';

/** Training jobs past their deadline are expired and retried (or the cycle fails): no job hangs forever. */
@Injectable()
export class TrainingDeadlineSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly log = new Log('trainer-bridge', 'deadlines');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TrainingEventsHandler) private readonly handler: TrainingEventsHandler,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(now = new Date()): Promise<void> {
    try {
      const overdue: { job_id: string }[] = await this.dataSource.query(
        `SELECT job_id FROM training_jobs WHERE status IN ('queued', 'running') AND deadline < $1`,
        [now],
      );
      for (const { job_id } of overdue) await this.handler.expire(job_id);
    } catch (err) {
      this.log.warn('deadline sweep failed; will retry', { error: (err as Error).message });
    }
  }
}
