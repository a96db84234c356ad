import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SUBJECTS } from '@genesis/contracts';
import { EventConsumers, EventPublisher, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { Outbox } from '@genesis/persistence';
import { PromotionHandler } from './promote/promotion.handler';
import { RollbackHandler } from './rollback/rollback.handler';

/** Wires the deployer's two consumers to the process lifecycle (one deployment at a time each). */
@Injectable()
export class DeployerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumers: EventConsumers;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(PromotionHandler) promotion: PromotionHandler,
    @Inject(RollbackHandler) rollback: RollbackHandler,
  ) {
    this.consumers = new EventConsumers(
      nats,
      publisher,
      new Log('deployer'),
      'deployer',
      [
        { subject: SUBJECTS.modelEvaluated, handle: (e) => promotion.handle(e), concurrency: 1 },
        { subject: SUBJECTS.rollbackRequested, handle: (e) => rollback.handle(e), concurrency: 1 },
      ],
      () => outbox.kick(),
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.consumers.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.consumers.stop();
  }
}
