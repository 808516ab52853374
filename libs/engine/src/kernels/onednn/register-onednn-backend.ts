/**
 * Registers the `onednn` backend: every cpu kernel under the new name, then the native kernels
 * over the hot ones (convolutions, elementwise ops, channel reductions, max pooling, matrix
 * products) and the fused batch-norm kernels of the model's training op.
 *
 * Determinism: with one thread every native kernel gives the same bits on every run and in every
 * process on the same CPU type. The elementwise, reduction and pooling loops stay so with more
 * threads, but oneDNN's multi-threaded filter gradients and sgemm add per-thread partial sums, so
 * with --threads > 1 results can differ in the last bits between thread counts. Across CPU types
 * results differ anyway: oneDNN picks its kernels by ISA (AVX2, AVX-512, AMX).
 */
import * as tf from '@tensorflow/tfjs-core';

import { FUSED_BATCH_NORM, FUSED_BATCH_NORM_GRAD } from '@resnet/model';

import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { widenBf16Inputs } from './bf16-inputs';
import { conv2dConfig } from './conv2d';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { elementwiseKernelConfigs } from './elementwise-kernels';
import { fusedBatchNormConfig } from './fused-batch-norm';
import { fusedBatchNormGradConfig } from './fused-batch-norm-grad';
import { fusedConv2dConfig } from './fused-conv2d';
import { matMulKernelConfigs } from './matmul-kernels';
import { loadOnednnAddon, OnednnAddon } from './native-addon';
import { ONEDNN, OnednnBackend } from './onednn-backend';
import { poolingKernelConfigs } from './pooling-kernels';
import { reductionKernelConfigs } from './reduction-kernels';

export interface OnednnInfo {
  /** oneDNN's version, e.g. 2.6.3. */
  readonly version: string;
  /** The most capable instruction set oneDNN uses on this CPU, e.g. avx2 or avx512_core_amx. */
  readonly isa: string;
  readonly threads: number;
  /** Whether oneDNN runs bf16 convolutions natively here (AVX512_BF16 or AMX JIT kernels, not its reference loops). */
  readonly bf16: boolean;
}

/** Whether the addon loads here, without registering anything. */
export function onednnAvailable(): boolean {
  return loadOnednnAddon().addon !== null;
}

/**
 * The inputs each kernel reads in bf16 itself (see OnednnBackend); the others arrive as float32.
 * Identity and Reshape (the cpu backend's) read no values: they share the input's data.
 */
const BF16_INPUTS: Readonly<Record<string, readonly string[]>> = {
  [tf.Identity]: ['x'],
  [tf.Reshape]: ['x'],
  [tf.Conv2D]: ['x'],
  [tf.Conv2DBackpropInput]: ['dy'],
  [tf.Conv2DBackpropFilter]: ['x', 'dy'],
  [FUSED_BATCH_NORM]: ['x', 'residual'],
  [FUSED_BATCH_NORM_GRAD]: ['x', 'y'],
};

function registerKernels(addon: OnednnAddon): void {
  for (const config of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({
      ...config,
      backendName: ONEDNN,
      kernelFunc: widenBf16Inputs(config.kernelFunc, BF16_INPUTS[config.kernelName]),
    });
  }
  const native = [
    conv2dConfig(addon),
    conv2dBackpropInputConfig(addon),
    conv2dBackpropFilterConfig(addon),
    ...elementwiseKernelConfigs(addon),
    ...reductionKernelConfigs(addon),
    ...poolingKernelConfigs(addon),
    ...matMulKernelConfigs(addon),
    fusedBatchNormConfig(addon),
    fusedBatchNormGradConfig(addon),
    fusedConv2dConfig(),
  ];
  for (const config of native) {
    if (tf.getKernel(config.kernelName, ONEDNN)) tf.unregisterKernel(config.kernelName, ONEDNN);
    tf.registerKernel({
      ...config,
      kernelFunc: widenBf16Inputs(config.kernelFunc, BF16_INPUTS[config.kernelName]),
    });
  }
}

/**
 * Makes `onednn` available to tf.setBackend with `threads` OpenMP threads for its native kernels
 * (call again to change them). Throws BackendUnavailableError, naming the fix, when the addon is
 * not built or does not load.
 */
export function registerOnednnBackend(threads = 1): OnednnInfo {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`the onednn backend needs a whole number of threads >= 1, got ${threads}`);
  }
  const load = loadOnednnAddon();
  if (!load.addon) throw new BackendUnavailableError(`backend "onednn" is unavailable: ${load.reason}`);
  load.addon.setThreads(threads);
  if (!tf.findBackendFactory(ONEDNN)) {
    registerKernels(load.addon);
    tf.registerBackend(ONEDNN, () => new OnednnBackend());
  }
  return load.addon.info();
}
