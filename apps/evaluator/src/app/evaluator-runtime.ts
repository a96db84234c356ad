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
import { EvaluationResultsHandler } from './collect-results/evaluation-results.handler';
import { StartEvaluationHandler } from './start-evaluation/start-evaluation.handler';

/** Wires the evaluator's three consumers to the process lifecycle. */
@Injectable()
export class EvaluatorRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumers: EventConsumers;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(Outbox) outbox: Outbox,
    @Inject(StartEvaluationHandler) start: StartEvaluationHandler,
    @Inject(EvaluationResultsHandler) results: EvaluationResultsHandler,
  ) {
    this.consumers = new EventConsumers(
      nats,
      publisher,
      new Log('evaluator'),
      'evaluator',
      [
        { subject: SUBJECTS.modelTrained, handle: (e) => start.handle(e), concurrency: 1 },
        { subject: SUBJECTS.evaluationCompleted, handle: (e) => results.completed(e) },
        { subject: SUBJECTS.evaluationFailed, handle: (e) => results.failed(e) },
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
