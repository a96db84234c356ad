export * from './subjects';
export * from './events';
export * from './envelope';
export * from './validation';
export * from './storable-text';
export * from './semantic';
