export * from './job';
export * from './retry-policy';
export * from './job-lifecycle';
export * from './deadline-sweeper';
export * from './nest-providers';
export * from './worker-fleet';
