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
import { StartTrainingHandler } from './build-snapshot/start-training.handler';
import { TrainingEventsHandler } from './track-training/training-events.handler';

/** Wires the bridge's four consumers to the process lifecycle. */
@Injectable()
export class BridgeRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('trainer-bridge');
  private readonly runners: ConsumerRunner[];

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(StartTrainingHandler) start: StartTrainingHandler,
    @Inject(TrainingEventsHandler) training: TrainingEventsHandler,
  ) {
    const on = (subject: string, handle: (e: never) => Promise<void>, concurrency = 4) =>
      new ConsumerRunner(nats, publisher, this.log, {
        stream: STREAMS.events,
        durable: durableName('trainer-bridge', subject),
        concurrency,
        handler: (async (event: EventEnvelope) => {
          await handle(event as never);
          outbox.kick();
        }) as EventHandler,
      });
    this.runners = [
      on(SUBJECTS.thresholdReached, (e) => start.handle(e), 1),
      on(SUBJECTS.trainingProgress, (e) => training.progress(e), 8),
      on(SUBJECTS.trainingCompleted, (e) => training.completed(e)),
      on(SUBJECTS.trainingFailed, (e) => training.failed(e)),
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const r of this.runners) await r.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }
}
