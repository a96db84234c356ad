export * from './db';
export * from './artifact-kinds';
export * from './families';
export * from './aliases';
export * from './versions';
export * from './artifacts';
export * from './performance';
export * from './registry.config';
