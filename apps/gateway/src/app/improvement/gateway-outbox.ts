import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventPublisher } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { OutboxRelay } from '@genesis/persistence';

/**
 * Publishes the gateway's transactional events (cycle.requested, feedback.recorded): they follow a
 * row the gateway writes, so they go through the outbox rather than straight to the bus.
 */
@Injectable()
export class GatewayOutbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly relay: OutboxRelay;

  constructor(@Inject(DataSource) dataSource: DataSource, @Inject(EventPublisher) publisher: EventPublisher) {
    this.relay = new OutboxRelay(dataSource, publisher, new Log('gateway', 'outbox'));
  }

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  kick(): void {
    this.relay.kick();
  }
}
