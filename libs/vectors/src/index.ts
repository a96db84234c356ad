export * from './vector-index';
export * from './postgres-vector-index';
export * from './weaviate-vector-index';
