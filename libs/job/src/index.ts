export * from './exported-model';
export * from './job-view';
export * from './model-tensor-codec';
export * from './training-job';
export * from './model-partitions';
export * from './shard-message-check';
export * from './errors/shard-message.error';
