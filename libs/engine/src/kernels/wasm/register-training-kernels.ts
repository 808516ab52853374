/**
 * Registers the XNNPACK-backed training kernels for the tfjs wasm backend:
 * Conv2DBackpropFilter (missing from tfjs-backend-wasm) and
 * Conv2DBackpropInput (replaces the stock, much slower one), and the model's
 * fused batch-norm kernels in WebAssembly SIMD.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { wasmConv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { wasmConv2DBackpropInputConfig } from './conv2d-backprop-input';
import { wasmFusedBatchNormConfig } from './fused-batch-norm';
import { wasmFusedBatchNormGradConfig } from './fused-batch-norm-grad';

const TRAINING_KERNELS: readonly KernelConfig[] = [
  wasmConv2DBackpropInputConfig,
  wasmConv2DBackpropFilterConfig,
  wasmFusedBatchNormConfig,
  wasmFusedBatchNormGradConfig,
];

/**
 * Idempotent. Safe to call before or after the wasm backend is initialised:
 * kernels are looked up per call, and these have no setup step. An existing
 * registration (e.g. tfjs-backend-wasm's own Conv2DBackpropInput) is removed
 * first because tfjs refuses to register a kernel twice.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, config.backendName);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}
