/**
 * What the oneDNN convolution kernels (conv2d.ts, conv2d-backprop-input.ts,
 * conv2d-backprop-filter.ts) share: NHWC activations, HWIO filters, any kernel size, stride and
 * padding, dilation 1, at the backend's precision. Other cases (NCHW, dilated filters) go to the
 * cpu backend's kernels.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConvAttrs, nhwcConvInfo, unsupportedConv } from '../conv-geometry';
import { ConvPrecision } from './native-addon';
import { OnednnBackend } from './onednn-backend';

export type Shape4 = [number, number, number, number];

/**
 * The forward conv's geometry as the addon takes it, or null when oneDNN cannot express it:
 * another layout or dilation, empty tensors, or an output size that tfjs rounded differently from
 * oneDNN's floor((in + pads - k) / stride) + 1 (possible with numeric pads and dimRoundingMode).
 */
export function onednnConvGeometry(
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

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The addon's precision for the backend's current one. */
export function convPrecision(backend: OnednnBackend): ConvPrecision {
  return backend.precision === 'bf16' ? ConvPrecision.Bf16 : ConvPrecision.F32;
}
