import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@genesis/config';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';

/** Evaluates candidates against the champion (issue: evaluation gate). For now: boots, connects, serves health and metrics. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'evaluator', config, redis: false })],
      controllers: [MetricsController],
    };
  }
}
