export * from './errors';
export * from './nats-client';
export * from './publisher';
export * from './consumer-runner';
export * from './dlq';
export * from './topology';
export * from './messaging.module';
export * from './artifact-store';
