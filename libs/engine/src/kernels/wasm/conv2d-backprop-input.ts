/**
 * Conv2DBackpropInput for the wasm backend, built on its XNNPACK Conv2D.
 *
 * The stock wasm kernel is a naive C++ loop, ~10x slower than forward Conv2D.
 * The input gradient of y = conv(x, W, stride s, pads pt/pl) is itself a
 * convolution:
 *
 *   dx = conv_stride1(dilate_s(dy), W'),   W'[kh,kw,co,ci] = W[KH-1-kh, KW-1-kw, ci, co]
 *
 * where dilate_s inserts s-1 zeros between dy's rows/columns, and the
 * padding is chosen so dx comes out with the input's shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { supportedConvInfo } from '../conv-geometry';
import { typedKernelConfig } from '../typed-kernel';
import {
  assertShape,
  PadPair,
  WasmKernelScope,
  WASM,
  WasmKernelArgs,
  wasmConv2d,
  withWasmScope,
} from './wasm-kernel-utils';

/**
 * Padding (before, after) along one spatial axis for the stride-1 conv over
 * the dilated dy, whose length is outSize*stride (it keeps the s-1 trailing
 * zeros from dilateHW). dx[i] = sum_k dyDilated[i + padBefore_fwd - k] W[k]
 * = sum_k' dyDilated[i - (K-1-padBefore_fwd) + k'] W'[k'], hence before =
 * K-1-padBefore_fwd, and after makes the output length equal inSize:
 * outSize*s + before + after - K + 1 = inSize. Either can be negative (large
 * explicit pads, or rows the forward conv never read); splitPad turns that
 * into a crop.
 */
function transposedPad(
  inSize: number,
  outSize: number,
  stride: number,
  kernel: number,
  padBefore: number,
): PadPair {
  const before = kernel - 1 - padBefore;
  const after = inSize + padBefore - outSize * stride;
  return [before, after];
}

/**
 * The rewrite may ask for negative padding on a side ("ignore these rows").
 * XNNPACK wants padding >= 0, so a negative pad becomes a crop of the input.
 */
function splitPad([before, after]: PadPair): { pad: PadPair; crop: PadPair } {
  return {
    pad: [Math.max(0, before), Math.max(0, after)],
    crop: [Math.max(0, -before), Math.max(0, -after)],
  };
}

/**
 * Crops NHWC rows/cols off `x`; no-op when nothing is cropped. Only needed for
 * odd cases (1x1 stride 2 on odd sizes, explicit pads > K-1): wasm's Slice is
 * a JS copy loop.
 */
function cropHW(scope: WasmKernelScope, x: TensorInfo, cropH: PadPair, cropW: PadPair): TensorInfo {
  if (cropH[0] === 0 && cropH[1] === 0 && cropW[0] === 0 && cropW[1] === 0) return x;
  const [n, h, w, c] = x.shape;
  return scope.run(
    'Slice',
    { x },
    { begin: [0, cropH[0], cropW[0], 0], size: [n, h - cropH[0] - cropH[1], w - cropW[0] - cropW[1], c] },
  );
}

/**
 * Inserts s-1 zeros after every row/column of an NHWC tensor:
 * [N,H,W,C] -> [N,H*sh,W*sw,C] with x[n,h,w,c] at [n,h*sh,w*sw,c]. The s-1
 * trailing zeros are kept and accounted for in the conv padding, which avoids
 * a Slice in the common cases.
 */
function dilateHW(scope: WasmKernelScope, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = scope.run('Reshape', { x }, { shape: [n, h, 1, w, 1, c] });
  const padded = scope.run(
    'PadV2',
    { x: x6 },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  return scope.run('Reshape', { x: padded }, { shape: [n, h * sh, w * sw, c] });
}

function conv2DBackpropInput({
  inputs,
  backend,
  attrs,
}: WasmKernelArgs<tf.Conv2DBackpropInputInputs, tf.Conv2DBackpropInputAttrs>): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const info = supportedConvInfo(
    'Conv2DBackpropInput',
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs,
  );
  assertShape('Conv2DBackpropInput dy', dy.shape, info.outShape);

  const h = splitPad(
    transposedPad(info.inHeight, info.outHeight, info.strideHeight, info.filterHeight, info.padInfo.top),
  );
  const w = splitPad(
    transposedPad(info.inWidth, info.outWidth, info.strideWidth, info.filterWidth, info.padInfo.left),
  );

  return withWasmScope(backend, (scope) => {
    // W [KH,KW,ci,co] -> spatially flipped, channels swapped [KH,KW,co,ci].
    // A 1x1 filter needs no flip.
    const flipped =
      info.filterHeight * info.filterWidth > 1
        ? scope.run('Reverse', { x: filter }, { dims: [0, 1] })
        : filter;
    const wT = scope.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });

    const dyDilated = dilateHW(scope, dy, info.strideHeight, info.strideWidth);
    const dyCropped = cropHW(scope, dyDilated, h.crop, w.crop);
    const dx = wasmConv2d(scope, dyCropped, wT, h.pad, w.pad);
    assertShape('Conv2DBackpropInput dx', dx.shape, info.inShape);
    return dx;
  });
}

export const wasmConv2DBackpropInputConfig = typedKernelConfig(
  tf.Conv2DBackpropInput,
  WASM,
  conv2DBackpropInput,
);
