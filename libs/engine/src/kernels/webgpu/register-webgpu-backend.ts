/**
 * Registers the `webgpu` backend on a chosen adapter: tfjs-backend-webgpu's kernels, with this
 * project's WGSL kernels over the ones that dominate a ResNet training step (the three convolution
 * products as tiled implicit GEMMs, and the fused batch norm with its gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dConfig } from './conv2d';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { fusedBatchNormConfig } from './fused-batch-norm';
import { fusedBatchNormGradConfig } from './fused-batch-norm-grad';
import { GpuAdapterInfo, requestWebgpuAdapter, WebgpuAdapterOptions } from './webgpu-adapter';
import { WEBGPU } from './webgpu-program';

export const WEBGPU_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  conv2dConfig,
  conv2dBackpropInputConfig,
  conv2dBackpropFilterConfig,
  fusedBatchNormConfig,
  fusedBatchNormGradConfig,
];

/**
 * Dispatches tfjs records before it submits a command buffer (its default is 15). Each submit costs
 * CPU time and a training step records a few hundred dispatches; a command buffer this long still
 * reaches the GPU early enough to keep it busy while the rest of the step is recorded.
 */
export const DEFERRED_SUBMIT_BATCH_SIZE = 64;

export interface WebgpuBackendOptions extends WebgpuAdapterOptions {
  /**
   * Replace the stock kernels of the convolutions and batch norm with this project's. Off only to
   * measure the stock backend (bench:gpu) or to compare against it.
   * @defaultValue true
   */
  readonly trainingKernels?: boolean;
}

/** Registers (or re-registers) this project's kernels on the webgpu backend, or removes them. */
export function useWebgpuTrainingKernels(on: boolean, stock: readonly tf.KernelConfig[]): void {
  for (const config of WEBGPU_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, WEBGPU)) tf.unregisterKernel(config.kernelName, WEBGPU);
    const replacement = on ? config : stock.find((k) => k.kernelName === config.kernelName);
    if (replacement) tf.registerKernel(replacement);
  }
}

let stockKernels: tf.KernelConfig[] | null = null;

/**
 * Makes `webgpu` available to tf.setBackend on the adapter requestWebgpuAdapter picks, refusing a
 * software adapter unless allowed. Throws BackendUnavailableError, naming the fix, when no adapter
 * is usable.
 */
export async function registerWebgpuBackend(options: WebgpuBackendOptions = {}): Promise<GpuAdapterInfo> {
  const { adapter, info } = await requestWebgpuAdapter(options);
  // Imported only now: the module registers its kernels and backend when navigator.gpu exists.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', DEFERRED_SUBMIT_BATCH_SIZE);
  stockKernels ??= tf
    .getKernelsForBackend(WEBGPU)
    .filter((k) => WEBGPU_TRAINING_KERNELS.some((ours) => ours.kernelName === k.kernelName));
  useWebgpuTrainingKernels(options.trainingKernels ?? true, stockKernels);
  if (tf.findBackendFactory(WEBGPU)) tf.removeBackend(WEBGPU);
  tf.registerBackend(WEBGPU, async () => {
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
    // tfjs records dispatches without error scopes: an invalid shader or binding would leave garbage
    // in its outputs and go unnoticed, so any such error ends the process, naming it.
    device.onuncapturederror = (event) => {
      throw new Error(`WebGPU error on ${info.description}: ${event.error.message}`);
    };
    void device.lost.then((lost) => {
      if (lost.reason !== 'destroyed')
        throw new Error(`WebGPU device lost on ${info.description}: ${lost.message}`);
    });
    return new WebGPUBackend(device, adapter.info);
  });
  return info;
}
