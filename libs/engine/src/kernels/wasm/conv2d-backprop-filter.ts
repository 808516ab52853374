/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm has none, so
 * tfjs would otherwise fail on it), built on the backend's XNNPACK Conv2D.
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 *
 * is one forward conv once the batch is moved into the channel axis:
 *   input  x^T  = x  as [ci, H, W, n]     (batch = ci, channels = n)
 *   filter dy^T = dy as [OH, OW, n, co]
 *   dilation = forward stride, conv stride 1, pad top/left = forward pt/pl
 * which yields [ci, KH, KW, co]; transpose to [KH, KW, ci, co].
 *
 * XNNPACK supports dilation (conv2d_impl.cc passes dilation_height/width to
 * xnn_create_convolution2d_nhwc_f32), so dy never has to be zero-stuffed here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { supportedConvInfo } from '../conv-geometry';
import { typedKernelConfig } from '../typed-kernel';
import { assertShape, PadPair, WASM, WasmKernelArgs, wasmConv2d, withWasmScope } from './wasm-kernel-utils';

interface AxisPlan {
  /** Padding of x (before, after) for the dilated conv; both >= 0. */
  pad: PadPair;
  /** Zero rows appended to dy along this axis (see below). */
  dyExtra: number;
}

/**
 * Plans one spatial axis of the dilated conv. before = forward padBefore;
 * after makes the output length exactly K:
 *   inSize + before + after - ((outSize-1)*stride + 1) + 1 = K.
 * `after` is negative when the forward conv never read x's last
 * rows (e.g. 1x1 stride 2 on an even size). Rather than crop x (a Slice,
 * which on wasm is a slow JS copy of all of x), append m zero rows to dy:
 * they add nothing to the sum and lengthen the dilated filter by m*stride,
 * which makes after >= 0 again.
 */
function planAxis(
  inSize: number,
  outSize: number,
  stride: number,
  kernel: number,
  padBefore: number,
): AxisPlan {
  const after = kernel + (outSize - 1) * stride - inSize - padBefore;
  const dyExtra = after < 0 ? Math.ceil(-after / stride) : 0;
  return { pad: [padBefore, after + dyExtra * stride], dyExtra };
}

function conv2DBackpropFilter({
  inputs,
  backend,
  attrs,
}: WasmKernelArgs<tf.Conv2DBackpropFilterInputs, tf.Conv2DBackpropFilterAttrs>): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const info = supportedConvInfo(
    'Conv2DBackpropFilter',
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs,
  );
  assertShape('Conv2DBackpropFilter dy', dy.shape, info.outShape);

  const h = planAxis(info.inHeight, info.outHeight, info.strideHeight, info.filterHeight, info.padInfo.top);
  const w = planAxis(info.inWidth, info.outWidth, info.strideWidth, info.filterWidth, info.padInfo.left);

  return withWasmScope(backend, (scope) => {
    const xT = scope.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, n]
    let dyT = scope.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, n, co]
    if (h.dyExtra > 0 || w.dyExtra > 0) {
      const paddings = [
        [0, h.dyExtra],
        [0, w.dyExtra],
        [0, 0],
        [0, 0],
      ];
      dyT = scope.run('PadV2', { x: dyT }, { paddings, constantValue: 0 });
    }
    const dwT = wasmConv2d(scope, xT, dyT, h.pad, w.pad, [info.strideHeight, info.strideWidth]); // [ci, KH, KW, co]
    const dw = scope.run('Transpose', { x: dwT }, { perm: [1, 2, 0, 3] });
    assertShape('Conv2DBackpropFilter dW', dw.shape, info.filterShape);
    return dw;
  });
}

export const wasmConv2DBackpropFilterConfig = typedKernelConfig(
  tf.Conv2DBackpropFilter,
  WASM,
  conv2DBackpropFilter,
);
