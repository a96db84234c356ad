import { Module, type DynamicModule } from '@nestjs/common';
import { ArtifactStore } from '@genesis/messaging';
import { MetricsController } from '@genesis/observability';
import { SUBJECTS } from '@genesis/contracts';
import { eventConsumersProvider, InfraModule } from '@genesis/persistence';
import { EvaluationResultsHandler } from './collect-results/evaluation-results.handler';
import { EVALUATOR_CONFIG, type EvaluatorConfig } from './evaluator.config';
import { StartEvaluationHandler } from './start-evaluation/start-evaluation.handler';
import { jobProviders } from '@genesis/jobs';
import { evaluationJobKind } from './evaluation-jobs';

/**
 * The evaluation gate (ARCHITECTURE §2): a trained candidate and the current champion run the same
 * frozen suite on the worker; the paired per-item results decide promote or reject (model.evaluated).
 */
@Module({})
export class AppModule {
  static forRoot(config: EvaluatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'evaluator', config, redis: false })],
      controllers: [MetricsController],
      providers: [
        { provide: EVALUATOR_CONFIG, useValue: config },
        ArtifactStore,
        // The evaluation kind of the one job lifecycle, and its deadline sweep (ADR 0023).
        ...jobProviders<EvaluatorConfig>('evaluator', EVALUATOR_CONFIG, (c) => ({
          kinds: [evaluationJobKind(c)],
          sweepIntervalMs: c.sweepIntervalMs,
        })),
        StartEvaluationHandler,
        EvaluationResultsHandler,
        eventConsumersProvider(
          'evaluator',
          [StartEvaluationHandler, EvaluationResultsHandler],
          (start, results) => [
            { subject: SUBJECTS.modelTrained, handle: (e) => start.handle(e), concurrency: 1 },
            { subject: SUBJECTS.evaluationCompleted, handle: (e) => results.completed(e) },
            { subject: SUBJECTS.evaluationFailed, handle: (e) => results.failed(e) },
          ],
        ),
      ],
    };
  }
}
