export * from './lr-schedule';
export * from './sgd';
export * from './batch-norm-statistics';
export * from './step-aggregator';
export * from './kernels/vector-kernels';
export * from './local-sgd';
