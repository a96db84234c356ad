import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  STREAMS,
  SUBJECTS,
  durableName,
  type EventEnvelope,
  type LearningCapturedV1,
} from '@genesis/contracts';
import { ConsumerRunner, EventPublisher, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { OutboxRelay } from '@genesis/persistence';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { StoreLearningHandler } from './store-learning.handler';

/** Wires the learning.captured consumer and the outbox relay to the process lifecycle. */
@Injectable()
export class CaptureConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('learner');
  private readonly relay: OutboxRelay;
  private readonly runner: ConsumerRunner;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(DataSource) dataSource: DataSource,
    @Inject(StoreLearningHandler) handler: StoreLearningHandler,
    @Inject(LEARNER_CONFIG) config: LearnerConfig,
  ) {
    this.relay = new OutboxRelay(dataSource, publisher, this.log.child('outbox'));
    this.runner = new ConsumerRunner(nats, publisher, this.log, {
      stream: STREAMS.events,
      durable: durableName('learner', SUBJECTS.learningCaptured),
      concurrency: config.concurrency,
      handler: async (event) => {
        const outcome = await handler.handle(event as EventEnvelope<LearningCapturedV1>);
        if (outcome !== 'already-stored') this.relay.kick();
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.relay.start();
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.relay.stop();
  }
}
