import * as tf from '@tensorflow/tfjs-core';

/**
 * The attributes Conv2D and its gradient kernels share (tfjs-core's own types); dilations are not
 * part of the gradients' attributes, but callers of runKernel may pass them.
 */
export type ConvAttrs = Pick<tf.Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'> &
  Partial<Pick<tf.Conv2DAttrs, 'dilations'>>;

/**
 * Why our conv kernels cannot run a conv with these attributes (they take NHWC activations and
 * dilation 1), or null when they can.
 */
export function unsupportedConv(attrs: ConvAttrs): string | null {
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC') return `supports only dataFormat 'NHWC', got '${dataFormat}'`;
  const [dh, dw] = [attrs.dilations ?? 1].flat();
  if (dh !== 1 || (dw ?? dh) !== 1)
    return `does not support dilations > 1 in the forward conv, got [${dh}, ${dw ?? dh}]`;
  return null;
}

/** The forward conv's geometry, for NHWC activations and dilation 1 (see unsupportedConv). */
export function nhwcConvInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** nhwcConvInfo for a kernel that runs only supported convs, throwing with the reason otherwise. */
export function supportedConvInfo(
  kernelName: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
): tf.backend_util.Conv2DInfo {
  const unsupported = unsupportedConv(attrs);
  if (unsupported !== null) throw new Error(`${kernelName} (this project's training kernel) ${unsupported}.`);
  return nhwcConvInfo(xShape, filterShape, attrs);
}
