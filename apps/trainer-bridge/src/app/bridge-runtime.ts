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
import { StartTrainingHandler } from './build-snapshot/start-training.handler';
import { TrainingEventsHandler } from './track-training/training-events.handler';

/** Wires the bridge's four consumers to the process lifecycle. */
@Injectable()
export class BridgeRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumers: EventConsumers;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(StartTrainingHandler) start: StartTrainingHandler,
    @Inject(TrainingEventsHandler) training: TrainingEventsHandler,
  ) {
    this.consumers = new EventConsumers(
      nats,
      publisher,
      new Log('trainer-bridge'),
      'trainer-bridge',
      [
        { subject: SUBJECTS.thresholdReached, handle: (e) => start.handle(e), concurrency: 1 },
        { subject: SUBJECTS.trainingProgress, handle: (e) => training.progress(e), concurrency: 8 },
        { subject: SUBJECTS.trainingCompleted, handle: (e) => training.completed(e) },
        { subject: SUBJECTS.trainingFailed, handle: (e) => training.failed(e) },
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
