import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventPublisher } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { OutboxRelay } from '@genesis/persistence';

/** The monitor's outbox relay: publishes threshold.reached / cycle.failed once their rows commit. */
@Injectable()
export class MonitorOutbox {
  readonly relay: OutboxRelay;

  constructor(@Inject(DataSource) dataSource: DataSource, @Inject(EventPublisher) publisher: EventPublisher) {
    this.relay = new OutboxRelay(dataSource, publisher, new Log('monitor', 'outbox'));
  }

  kick(): void {
    this.relay.kick();
  }

  /** Publishes everything pending now (the one-shot mode has no background relay). */
  async flush(): Promise<number> {
    let total = 0;
    for (let n = await this.relay.publishBatch(); n > 0; n = await this.relay.publishBatch()) total += n;
    return total;
  }
}
