export * from './architecture';
export * from './parameter-layout';
export * from './initial-weights';
export * from './model-registry';
export * from './resnet-forward';
export * from './ops/fused-batch-norm';
export * from './layers-export';
export * from './layers-model-files';
