import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@genesis/config';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';

/** Snapshots data and drives training jobs (issue: training). For now: boots, connects, serves health and metrics. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'trainer-bridge', config, redis: false })],
      controllers: [MetricsController],
    };
  }
}
