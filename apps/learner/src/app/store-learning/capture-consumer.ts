import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  STREAMS,
  SUBJECTS,
  durableName,
  type EventEnvelope,
  type LearningCapturedV1,
} from '@genesis/contracts';
import { ConsumerRunner, EventPublisher, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { redactJsonPayload, redactReason } from '@genesis/secrets';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { StoreLearningHandler } from './store-learning.handler';

/** Wires the learning.captured consumer to the process lifecycle. */
@Injectable()
export class CaptureConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runner: ConsumerRunner;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(StoreLearningHandler) handler: StoreLearningHandler,
    @Inject(LEARNER_CONFIG) config: LearnerConfig,
  ) {
    this.runner = new ConsumerRunner(nats, publisher, new Log('learner'), {
      stream: STREAMS.captures,
      durable: durableName('learner', SUBJECTS.learningCaptured),
      concurrency: config.concurrency,
      // A capture is raw, untrusted text: what reaches GENESIS_DLQ is cleaned like a stored row, and the
      // captures stream is a work queue, so a message JetStream gave up on is deleted once dead-lettered.
      deadLetterPayload: redactJsonPayload,
      deadLetterReason: redactReason,
      deleteGivenUp: true,
      // The handler publishes its committed events itself; the outbox relay is the fallback.
      handler: async (event) => {
        await handler.handle(event as EventEnvelope<LearningCapturedV1>);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
