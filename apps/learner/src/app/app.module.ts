import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';
import { LEARNER_CONFIG, type LearnerConfig } from './learner.config';
import { StoreLearningHandler } from './store-learning/store-learning.handler';
import { CaptureConsumer } from './store-learning/capture-consumer';

@Module({})
export class AppModule {
  static forRoot(config: LearnerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'learner', config, poolSize: config.poolSize })],
      controllers: [MetricsController],
      providers: [{ provide: LEARNER_CONFIG, useValue: config }, StoreLearningHandler, CaptureConsumer],
    };
  }
}
