import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';
import { ApiKeyRing } from './auth/api-keys';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';
import { ProblemFilter } from './problem/problem.filter';
import { CaptureLearningController } from './capture-learning/capture-learning.controller';
import { CaptureLearningService } from './capture-learning/capture-learning.service';
import { QueryLearningsController } from './query-learnings/query-learnings.controller';
import { DocsController } from './docs/docs.controller';
import { AuthGuard } from './auth/auth.guard';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { IMPROVEMENT_CONTROLLERS, IMPROVEMENT_PROVIDERS } from './improvement';
import { MODEL_CONTROLLERS, MODEL_PROVIDERS } from './models';
import { STUDY_CONTROLLERS } from './studies';
import { EVENTS_CONTROLLERS, EVENTS_PROVIDERS } from './events';
import { RESCAN_CONTROLLERS } from './rescan-learnings';
import { ENGINE_CONTROLLERS } from './engine';
import { DataSource } from 'typeorm';
import { NatsClient } from '@genesis/messaging';
import { EmbeddingClient, createVectorIndex } from '@genesis/vectors';
import {
  EMBEDDING_CLIENT,
  SearchLearningsController,
  VECTOR_INDEX,
  VectorsAdminController,
} from './search-learnings/search-learnings.controller';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'gateway', config, redis: true })],
      controllers: [
        MetricsController,
        DocsController,
        CaptureLearningController,
        QueryLearningsController,
        SearchLearningsController,
        VectorsAdminController,
        ...IMPROVEMENT_CONTROLLERS,
        ...STUDY_CONTROLLERS,
        ...MODEL_CONTROLLERS,
        ...EVENTS_CONTROLLERS,
        ...RESCAN_CONTROLLERS,
        ...ENGINE_CONTROLLERS,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ApiKeyRing, useValue: new ApiKeyRing(config.apiKeys) },
        { provide: APP_FILTER, useClass: ProblemFilter },
        AuthGuard,
        RateLimitGuard,
        CaptureLearningService,
        ...IMPROVEMENT_PROVIDERS,
        ...EVENTS_PROVIDERS,
        ...MODEL_PROVIDERS,
        {
          provide: VECTOR_INDEX,
          inject: [DataSource],
          useFactory: (db: DataSource) => createVectorIndex(config.vectors, db),
        },
        {
          provide: EMBEDDING_CLIENT,
          inject: [NatsClient],
          useFactory: (nats: NatsClient) =>
            new EmbeddingClient(nats.connection, config.vectors.embeddingTimeoutMs),
        },
      ],
    };
  }
}
