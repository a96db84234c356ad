import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventPublisher } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { OutboxRelay, type CommittedEvent } from './outbox';

export const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');

export interface OutboxOptions {
  service: string;
  /** 'background': relay from boot to shutdown; 'manual': only flush() publishes (one-shot commands). */
  mode: 'background' | 'manual';
  /** See OutboxRelayOptions.graceMs: for a service that publishes its own events with publishCommitted. */
  graceMs?: number;
}

/**
 * The process's outbox relay: events written with enqueueEvent(s) are published once their
 * transaction commits — promptly after kick(), at the latest on the next poll.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly relay: OutboxRelay;

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(OUTBOX_OPTIONS) private readonly options: OutboxOptions,
  ) {
    this.relay = new OutboxRelay(dataSource, publisher, new Log(options.service, 'outbox'), options.service, {
      graceMs: options.graceMs,
    });
  }

  onApplicationBootstrap(): void {
    if (this.options.mode === 'background') this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  /** Publish now (after a commit) instead of at the next poll. */
  kick(): void {
    this.relay.kick();
  }

  /** Publishes the rows of a transaction that has committed now; what fails is left to the relay. */
  publishCommitted(rows: CommittedEvent[]): Promise<void> {
    return this.relay.publishCommitted(rows);
  }

  /** Publishes everything pending, then resolves with how many events went out. */
  async flush(): Promise<number> {
    let total = 0;
    for (let n = await this.relay.publishBatch(); n > 0; n = await this.relay.publishBatch()) total += n;
    return total;
  }
}
