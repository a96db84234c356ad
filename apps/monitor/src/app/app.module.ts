import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@genesis/config';
import { MetricsController } from '@genesis/observability';
import { InfraModule } from '@genesis/persistence';

/** Opens improvement cycles when thresholds are met (issue: the monitor). For now: boots, connects, serves health and metrics. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'monitor', config, redis: true })],
      controllers: [MetricsController],
    };
  }
}
