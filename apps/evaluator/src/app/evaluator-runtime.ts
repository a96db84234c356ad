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
import { EvaluationResultsHandler } from './collect-results/evaluation-results.handler';
import { StartEvaluationHandler } from './start-evaluation/start-evaluation.handler';

/** Wires the evaluator's three consumers to the process lifecycle. */
@Injectable()
export class EvaluatorRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('evaluator');
  private readonly runners: ConsumerRunner[];

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(StartEvaluationHandler) start: StartEvaluationHandler,
    @Inject(EvaluationResultsHandler) results: EvaluationResultsHandler,
  ) {
    const on = (subject: string, handle: (e: never) => Promise<void>, concurrency = 4) =>
      new ConsumerRunner(nats, publisher, this.log, {
        stream: STREAMS.events,
        durable: durableName('evaluator', subject),
        concurrency,
        handler: (async (event: EventEnvelope) => {
          await handle(event as never);
          outbox.kick();
        }) as EventHandler,
      });
    this.runners = [
      on(SUBJECTS.modelTrained, (e) => start.handle(e), 1),
      on(SUBJECTS.evaluationCompleted, (e) => results.completed(e)),
      on(SUBJECTS.evaluationFailed, (e) => results.failed(e)),
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const r of this.runners) await r.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }
}
