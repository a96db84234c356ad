import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from '@genesis/observability';
import { SUBJECTS } from '@genesis/contracts';
import { eventConsumersProvider, InfraModule } from '@genesis/persistence';
import { BRIDGE_CONFIG, type BridgeConfig } from './trainer-bridge.config';
import { ArtifactStore } from '@genesis/messaging';
import { StartTrainingHandler } from './build-snapshot/start-training.handler';
import { TrainingEventsHandler } from './track-training/training-events.handler';
import { jobProviders } from '@genesis/jobs';
import { trainingJobKind } from './training-jobs';
import { architectureJobKind } from './architecture-jobs';
import { StudyTrialsHandler } from './study-trials';
import { EvaluationOutputCleaner } from './rebuild-snapshots/clean-evaluation-outputs';
import { RebuildSnapshotsHandler } from './rebuild-snapshots/rebuild-snapshots.handler';

/**
 * Snapshots the data of a new cycle and drives the training worker through the jobs.train work
 * queue, up to model.trained (a registered candidate) or cycle.failed (ARCHITECTURE §2); rebuilds
 * or deletes the snapshots a rescan or forget job changed and taints the models trained on them.
 */
@Module({})
export class AppModule {
  static forRoot(config: BridgeConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'trainer-bridge', config })],
      controllers: [MetricsController],
      providers: [
        { provide: BRIDGE_CONFIG, useValue: config },
        ArtifactStore,
        StartTrainingHandler,
        TrainingEventsHandler,
        StudyTrialsHandler,
        // The training kind of the one job lifecycle, and its deadline sweep (ADR 0023).
        ...jobProviders<BridgeConfig>('trainer-bridge', BRIDGE_CONFIG, (c) => ({
          kinds: [trainingJobKind(c), architectureJobKind(c)],
          sweepIntervalMs: c.sweepIntervalMs,
        })),
        RebuildSnapshotsHandler,
        EvaluationOutputCleaner,
        eventConsumersProvider(
          'trainer-bridge',
          [StartTrainingHandler, TrainingEventsHandler, RebuildSnapshotsHandler, StudyTrialsHandler],
          (start, training, rebuild, trials) => [
            { subject: SUBJECTS.thresholdReached, handle: (e) => start.handle(e), concurrency: 1 },
            { subject: SUBJECTS.trainingProgress, handle: (e) => training.progress(e), concurrency: 8 },
            { subject: SUBJECTS.trainingCompleted, handle: (e) => training.completed(e) },
            { subject: SUBJECTS.trainingFailed, handle: (e) => training.failed(e) },
            // An architecture study's trial answers (ADR 0025): each may queue the next trials.
            { subject: SUBJECTS.studyTrialFinished, handle: (e) => trials.finished(e) },
            // After a rescan or forget job (ADR 0017); one at a time, each walks every snapshot.
            { subject: SUBJECTS.learningRescanned, handle: (e) => rebuild.handle(e), concurrency: 1 },
          ],
        ),
      ],
    };
  }
}
