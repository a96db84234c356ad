import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from '@genesis/observability';
import { SUBJECTS } from '@genesis/contracts';
import { eventConsumersProvider, InfraModule } from '@genesis/persistence';
import { LEARNER_CONFIG, type LearnerConfig } from './learner.config';
import { StoreLearningHandler } from './store-learning/store-learning.handler';
import { CaptureConsumer } from './store-learning/capture-consumer';
import { RescanLearningsHandler } from './rescan-learnings/rescan-learnings.handler';
import { StoredConsumer } from './index-learning/stored-consumer';
import { VectorIndexReadiness } from './index-learning/index-lag';

/** How long the relay leaves a fresh learner event to the learner's own publish after commit. */
const OUTBOX_GRACE_MS = 5000;

@Module({})
export class AppModule {
  static forRoot(config: LearnerConfig): DynamicModule {
    // Made here, before the container, so the readiness endpoint (InfraModule) and the indexing
    // consumer share it: an unreachable index makes readiness `degraded`, never down (ADR 0018).
    const indexReadiness = new VectorIndexReadiness();
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot({
          service: 'learner',
          config,
          poolSize: config.poolSize,
          // The learner publishes its events right after each commit; the relay takes what is left.
          outboxGraceMs: OUTBOX_GRACE_MS,
          readiness: [indexReadiness],
        }),
      ],
      controllers: [MetricsController],
      providers: [
        { provide: LEARNER_CONFIG, useValue: config },
        { provide: VectorIndexReadiness, useValue: indexReadiness },
        StoreLearningHandler,
        CaptureConsumer,
        RescanLearningsHandler,
        // Rescan and forget jobs (ADR 0017), one at a time: each is a long walk over the table.
        eventConsumersProvider('learner', [RescanLearningsHandler], (rescan) => [
          { subject: SUBJECTS.learningRescanRequested, handle: (e) => rescan.handle(e), concurrency: 1 },
        ]),
        StoredConsumer,
      ],
    };
  }
}
