export * from './errors/codec.error';
export * from './tensor-codec';
export * from './tensor-dtype';
export * from './model-tensor-codec';
export * from './training-job';
export * from './shard-task';
export * from './redis-keys';
export * from './exported-model';
