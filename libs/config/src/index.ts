export * from './env-reader';
export * from './infra-config';
