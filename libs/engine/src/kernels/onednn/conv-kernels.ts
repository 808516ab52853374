/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on oneDNN: NHWC activations, HWIO filters,
 * any kernel size, stride and padding, dilation 1. Other cases (NCHW, dilated filters) go to the
 * cpu backend's kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { ConvAttrs, nhwcConvInfo, unsupportedConv } from '../conv-geometry';
import { ConvPass, OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';

type Shape4 = [number, number, number, number];

/**
 * The forward conv's geometry as the addon takes it, or null when oneDNN cannot express it:
 * another layout or dilation, empty tensors, or an output size that tfjs rounded differently from
 * oneDNN's floor((in + pads - k) / stride) + 1 (possible with numeric pads and dimRoundingMode).
 */
function geometry(
  xShape: Shape4,
  filterShape: Shape4,
  attrs: ConvAttrs,
): { info: tf.backend_util.Conv2DInfo; g: Int32Array } | null {
  if (unsupportedConv(attrs) !== null) return null;
  const info = nhwcConvInfo(xShape, filterShape, attrs);
  const { top, left, bottom, right } = info.padInfo;
  const fits = (size: number, before: number, after: number, k: number, s: number, out: number): boolean =>
    out > 0 && Math.floor((size + before + after - k) / s) + 1 === out;
  if (
    xShape.some((d) => d === 0) ||
    info.outChannels === 0 ||
    !fits(info.inHeight, top, bottom, info.filterHeight, info.strideHeight, info.outHeight) ||
    !fits(info.inWidth, left, right, info.filterWidth, info.strideWidth, info.outWidth)
  ) {
    return null;
  }
  const g = Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    top,
    left,
    bottom,
    right,
  );
  return { info, g };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function convKernelConfigs(addon: OnednnAddon): KernelConfig[] {
  const conv2d = nativeKernelConfig<tf.Conv2DAttrs>(tf.Conv2D, (inputs, backend, attrs) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    if (!isFloat32(x, filter)) return null;
    const plan = geometry(x.shape as Shape4, filter.shape as Shape4, attrs);
    if (!plan) return null;
    const out = backend.outputBuffer(size(plan.info.outShape));
    addon.conv(ConvPass.Forward, backend.float32Values(x), backend.float32Values(filter), out, plan.g);
    return backend.makeTensorInfo(plan.info.outShape, 'float32', out);
  });

  const backpropInput = nativeKernelConfig<tf.Conv2DBackpropInputAttrs>(
    tf.Conv2DBackpropInput,
    (inputs, backend, attrs) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      if (!isFloat32(dy, filter)) return null;
      const plan = geometry(attrs.inputShape, filter.shape as Shape4, attrs);
      if (!plan || !sameShape(dy.shape, plan.info.outShape)) return null;
      const out = backend.outputBuffer(size(attrs.inputShape));
      addon.conv(
        ConvPass.BackwardData,
        backend.float32Values(dy),
        backend.float32Values(filter),
        out,
        plan.g,
      );
      return backend.makeTensorInfo([...attrs.inputShape], 'float32', out);
    },
  );

  const backpropFilter = nativeKernelConfig<tf.Conv2DBackpropFilterAttrs>(
    tf.Conv2DBackpropFilter,
    (inputs, backend, attrs) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      if (!isFloat32(x, dy)) return null;
      const plan = geometry(x.shape as Shape4, attrs.filterShape, attrs);
      if (!plan || !sameShape(dy.shape, plan.info.outShape)) return null;
      const out = backend.outputBuffer(size(attrs.filterShape));
      addon.conv(ConvPass.BackwardWeights, backend.float32Values(x), backend.float32Values(dy), out, plan.g);
      return backend.makeTensorInfo([...attrs.filterShape], 'float32', out);
    },
  );

  return [conv2d, backpropInput, backpropFilter];
}
