/**
 * Native float32 Sum and Mean over a run of neighbouring axes: batch norm's per-channel
 * statistics and gradients (axes [0, 1, 2] of NHWC) and global average pooling (axes [1, 2]).
 * The cpu backend first transposes the reduced axes to the end, a full copy of the tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';

/** x viewed as [outer, inner, channels] with `inner` the reduced axes, or null if they are not adjacent. */
function planReduction(
  shape: readonly number[],
  axis: number | number[],
): { outer: number; inner: number; channels: number; axes: number[] } | null {
  const axes = [...new Set(tf.util.parseAxisParam(axis, [...shape]))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0] + i)) return null;
  const product = (from: number, to: number): number => shape.slice(from, to).reduce((x, y) => x * y, 1);
  const first = axes[0];
  const end = axes[axes.length - 1] + 1;
  const plan = {
    outer: product(0, first),
    inner: product(first, end),
    channels: product(end, shape.length),
    axes,
  };
  return plan.outer * plan.inner * plan.channels === 0 ? null : plan;
}

function reductionConfig(kernelName: string, addon: OnednnAddon, mean: boolean): KernelConfig {
  return nativeKernelConfig<tf.SumAttrs>(kernelName, (inputs, backend, attrs) => {
    const { x } = inputs as { x: TensorInfo };
    if (!isFloat32(x)) return null;
    const plan = planReduction(x.shape, attrs.axis);
    if (!plan) return null;
    const out = backend.outputBuffer(plan.outer * plan.channels);
    addon.reduceSum(
      backend.float32Values(x),
      plan.outer,
      plan.inner,
      plan.channels,
      mean ? 1 / plan.inner : 1,
      out,
    );
    const reducedShape = x.shape.filter((_, i) => !plan.axes.includes(i));
    const outShape = attrs.keepDims
      ? tf.backend_util.expandShapeToKeepDim(reducedShape, plan.axes)
      : reducedShape;
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}

export function reductionKernelConfigs(addon: OnednnAddon): KernelConfig[] {
  return [reductionConfig(tf.Sum, addon, false), reductionConfig(tf.Mean, addon, true)];
}
