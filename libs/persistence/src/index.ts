export * from './entities/learning.entity';
export * from './entities/outbox.entity';
export * from './data-source';
export * from './outbox';
export * from './persistence.module';
export * from './redis.module';
export * from './infra.module';
export * from './outbox.service';
