export * from './wait';
export * from './ports';
export * from './nats-server';
export * from './database';
export * from './service-process';
export * from './stack';
export * from './http';
export * from './worker-process';
