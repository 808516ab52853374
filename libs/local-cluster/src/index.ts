export * from './coordinator-process';
export * from './embedded-redis';
export * from './embedded-redis-cluster';
export * from './local-cluster';
export * from './stop-process';
export * from './worker-pool';
export * from './service-pool';
export * from './process-pool';
