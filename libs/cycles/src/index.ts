export * from './domain/cycle-state';
export * from './domain/trigger-policy';
export * from './trigger-policy.config';
export * from './cycle-store';
export * from './status-query';
