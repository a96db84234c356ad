export * from './vector-index';
export * from './postgres-vector-index';
export * from './weaviate-vector-index';
export * from './vector-settings';
export * from './embedding-client';
export * from './rebuild';
