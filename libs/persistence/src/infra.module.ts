import { Module, type DynamicModule } from '@nestjs/common';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { InfraConfig } from '@genesis/config';
import { MessagingModule, NatsClient, natsReadiness } from '@genesis/messaging';
import { HealthModule, type ReadinessCheck } from '@genesis/observability';
import { postgresReadiness } from './data-source';
import { PersistenceModule } from './persistence.module';
import { REDIS, RedisModule, redisReadiness } from './redis.module';
import { Outbox, OUTBOX_OPTIONS, type OutboxOptions } from './outbox.service';
import { KnownModels } from './known-models';

export interface InfraOptions {
  service: string;
  config: InfraConfig;
  redis?: boolean;
  poolSize?: number;
  /** How the outbox relay runs (default: in the background for the life of the process). */
  outbox?: OutboxOptions['mode'];
  /** For a service that publishes its events itself after each commit (Outbox.publishCommitted). */
  outboxGraceMs?: number;
  /** The service's own readiness checks beyond its connections (e.g. the learner's vector index). */
  readiness?: ReadinessCheck[];
}

/**
 * The connections a service uses (NATS and Postgres always, Redis on request), the readiness
 * endpoint that checks exactly those, and the process's outbox relay.
 */
@Module({})
export class InfraModule {
  static forRoot({
    service,
    config,
    redis = false,
    poolSize,
    outbox = 'background',
    outboxGraceMs,
    readiness = [],
  }: InfraOptions): DynamicModule {
    const inject: unknown[] = [NatsClient, DataSource, ...(redis ? [REDIS] : [])];
    return {
      module: InfraModule,
      imports: [
        MessagingModule.forRoot({ url: config.natsUrl, name: service, auth: config.natsAuth }),
        PersistenceModule.forRoot({ url: config.databaseUrl, name: service, poolSize }),
        ...(redis ? [RedisModule.forRoot({ url: config.redisUrl, name: service })] : []),
        HealthModule.register({
          useFactory: (...deps: unknown[]): ReadinessCheck[] => [
            natsReadiness(deps[0] as NatsClient),
            postgresReadiness(deps[1] as DataSource),
            ...(redis ? [redisReadiness(deps[2] as Redis)] : []),
            ...readiness,
          ],
          inject,
        }),
      ],
      providers: [
        {
          provide: OUTBOX_OPTIONS,
          useValue: { service, mode: outbox, graceMs: outboxGraceMs } satisfies OutboxOptions,
        },
        Outbox,
        // Per-model metrics at 0 for every known model (libs/observability model-series.ts).
        KnownModels,
      ],
      exports: [Outbox, KnownModels],
    };
  }
}
