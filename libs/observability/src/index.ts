export * from './logger';
export * from './metrics';
export * from './http-metrics';
export * from './health';
export * from './metrics.controller';
export * from './bootstrap';
export * from './model-series';
