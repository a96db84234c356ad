import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { STREAMS, SUBJECTS, durableName, type EventEnvelope } from '@genesis/contracts';
import { ConsumerRunner, EventPublisher, NatsClient, type EventHandler } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { Outbox } from '@genesis/persistence';
import { PromotionHandler } from './promote/promotion.handler';
import { RollbackHandler } from './rollback/rollback.handler';

/** Wires the deployer's two consumers to the process lifecycle (one deployment at a time). */
@Injectable()
export class DeployerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('deployer');
  private readonly runners: ConsumerRunner[];

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(PromotionHandler) promotion: PromotionHandler,
    @Inject(RollbackHandler) rollback: RollbackHandler,
  ) {
    const on = (subject: string, handle: (e: never) => Promise<void>) =>
      new ConsumerRunner(nats, publisher, this.log, {
        stream: STREAMS.events,
        durable: durableName('deployer', subject),
        concurrency: 1,
        handler: (async (event: EventEnvelope) => {
          await handle(event as never);
          outbox.kick();
        }) as EventHandler,
      });
    this.runners = [
      on(SUBJECTS.modelEvaluated, (e) => promotion.handle(e)),
      on(SUBJECTS.rollbackRequested, (e) => rollback.handle(e)),
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const r of this.runners) await r.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }
}
