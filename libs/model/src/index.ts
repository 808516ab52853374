export * from './architecture';
export * from './parameter-layout';
export * from './initial-weights';
export * from './model-registry';
export * from './resnet-forward';
