import * as tf from '@tensorflow/tfjs-core';

/** Conv attributes as tfjs hands them to Conv2D and its gradient kernels. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  // Not part of tfjs' backprop attrs, but callers of runKernel may pass it.
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

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
