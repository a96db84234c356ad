import { Module, type DynamicModule } from '@nestjs/common';
import { ArtifactStore } from '@genesis/messaging';
import { MetricsController } from '@genesis/observability';
import { SUBJECTS } from '@genesis/contracts';
import { eventConsumersProvider, InfraModule } from '@genesis/persistence';
import { DEPLOYER_CONFIG, type DeployerConfig } from './deployer.config';
import { PromotionHandler } from './promote/promotion.handler';
import { RollbackHandler } from './rollback/rollback.handler';
import { createTarget, DEPLOYMENT_TARGET } from './targets';

/**
 * Promotion and rollback (ARCHITECTURE §2): the serving target behind one port, the registry's
 * champion alias with its history, and the state the status document derives from.
 */
@Module({})
export class AppModule {
  static forRoot(config: DeployerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot({ service: 'deployer', config, redis: false })],
      controllers: [MetricsController],
      providers: [
        { provide: DEPLOYER_CONFIG, useValue: config },
        ArtifactStore,
        {
          provide: DEPLOYMENT_TARGET,
          useFactory: (artifacts: ArtifactStore) => createTarget(config, artifacts),
          inject: [ArtifactStore],
        },
        PromotionHandler,
        RollbackHandler,
        // One deployment at a time per consumer.
        eventConsumersProvider('deployer', [PromotionHandler, RollbackHandler], (promotion, rollback) => [
          { subject: SUBJECTS.modelEvaluated, handle: (e) => promotion.handle(e), concurrency: 1 },
          { subject: SUBJECTS.rollbackRequested, handle: (e) => rollback.handle(e), concurrency: 1 },
        ]),
      ],
    };
  }
}
