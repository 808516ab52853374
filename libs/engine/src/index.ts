export * from './errors/backend-unavailable.error';
export * from './compute-backend';
export * from './shard-trainer';
export * from './kernels/wasm/register-training-kernels';
export * from './kernels/onednn/register-onednn-backend';
export * from './kernels/webgpu/webgpu-adapter';
export * from './kernels/webgpu/register-webgpu-backend';
export * from './kernels/webgpu/dispatch-shapes';
