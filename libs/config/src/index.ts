export * from './env-reader';
export * from './infra-config';
export * from './trusted-proxies';
export * from './topology-config';
