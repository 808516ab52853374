/**
 * FusedConv2D, what a tfjs-layers Conv2D with a bias (an exported model's convolutions) runs: the
 * native convolution, then this backend's Add and Relu. Without it the cpu backend's FusedConv2D
 * ran, convolving in JavaScript: 50 CIFAR-10 images through an exported ResNet-20 took 6.2 s of
 * FusedConv2D, where the wasm backend takes about 1 s for the whole forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

import { OnednnBackend, ONEDNN } from './onednn-backend';
import { nativeKernelConfig } from './native-kernel';

/** This backend's kernel `name` (registered before this one runs). */
function kernel(name: string): KernelFunc {
  return tf.getKernel(name, ONEDNN)!.kernelFunc;
}

/** Runs `next` on `input` and frees `input`, an intermediate result. */
function then(
  backend: OnednnBackend,
  input: TensorInfo,
  next: (input: TensorInfo) => TensorInfo,
): TensorInfo {
  try {
    return next(input);
  } finally {
    backend.disposeData(input.dataId);
  }
}

export function fusedConv2dConfig(): KernelConfig {
  return nativeKernelConfig<tf.FusedConv2DAttrs>(tf.FusedConv2D, (inputs, backend, attrs) => {
    const { x, filter, bias } = inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const { activation, strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
    // The activations Conv2D layers use; the others (and NCHW) go to the cpu kernel.
    if ((activation !== 'linear' && activation !== 'relu') || dataFormat !== 'NHWC') return null;
    let result = kernel(tf.Conv2D)({
      inputs: { x, filter },
      backend,
      attrs: { strides, pad, dataFormat, dilations, dimRoundingMode },
    }) as TensorInfo;
    if (bias)
      result = then(
        backend,
        result,
        (a) => kernel(tf.Add)({ inputs: { a, b: bias }, backend }) as TensorInfo,
      );
    if (activation === 'relu')
      result = then(backend, result, (a) => kernel(tf.Relu)({ inputs: { x: a }, backend }) as TensorInfo);
    return result;
  });
}
