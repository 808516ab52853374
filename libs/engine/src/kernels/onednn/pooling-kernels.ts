/**
 * Native float32 MaxPool and MaxPoolGrad (NHWC): the ImageNet stem's 3×3 stride-2 max-pool, whose
 * gradient the cpu backend computes with per-element index arithmetic in JavaScript, seconds per
 * step at ImageNet sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';

type Shape4 = [number, number, number, number];

/** The pool's geometry as the addon takes it, or null for empty tensors. */
function poolGeometry(
  xShape: number[],
  attrs: tf.MaxPoolAttrs,
): { info: tf.backend_util.Conv2DInfo; g: Int32Array } | null {
  const info = tf.backend_util.computePool2DInfo(
    xShape as Shape4,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.outShape.some((d) => d === 0) || xShape.some((d) => d === 0)) return null;
  const g = Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  return { info, g };
}

export function poolingKernelConfigs(addon: OnednnAddon): KernelConfig[] {
  const maxPool = nativeKernelConfig<tf.MaxPoolAttrs>(tf.MaxPool, (inputs, backend, attrs) => {
    const { x } = inputs as { x: TensorInfo };
    if (!isFloat32(x) || x.shape.length !== 4) return null;
    const plan = poolGeometry(x.shape, attrs);
    if (!plan) return null;
    const out = backend.outputBuffer(plan.info.outShape.reduce((a, b) => a * b, 1));
    addon.maxPool(backend.float32Values(x), out, plan.g);
    return backend.makeTensorInfo(plan.info.outShape, 'float32', out);
  });

  const maxPoolGrad = nativeKernelConfig<tf.MaxPoolAttrs>(tf.MaxPoolGrad, (inputs, backend, attrs) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (!isFloat32(dy, input) || input.shape.length !== 4) return null;
    const plan = poolGeometry(input.shape, attrs);
    if (!plan) return null;
    const dx = backend.outputBuffer(input.shape.reduce((a, b) => a * b, 1));
    addon.maxPoolGrad(backend.float32Values(dy), backend.float32Values(input), dx, plan.g);
    return backend.makeTensorInfo([...input.shape], 'float32', dx);
  });

  return [maxPool, maxPoolGrad];
}
