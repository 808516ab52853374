/**
 * Native float32 elementwise kernels: the broadcasting binary ops of batch norm and residual adds
 * (Add, Sub, Multiply, RealDiv, SquaredDifference) and the unary ops of ReLU and its gradient
 * (Relu, Step) and of the variance (Square). The cpu backend runs these as JavaScript loops with
 * per-element index arithmetic whenever an operand broadcasts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { BinaryOp, OnednnAddon, UnaryOp } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';

/** A dense output's dims and each input's strides over them, as the addon's binary() takes them. */
interface BroadcastPlan {
  dims: Int32Array;
  aStrides: Int32Array;
  bStrides: Int32Array;
}

/** Element strides of `shape` (right-aligned to `rank` dims) over the output, 0 where it broadcasts. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, o = rank - 1; i >= 0; i--, o--) {
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * Plans `out = a op b` with the fewest dims: size-1 output dims go, and neighbouring dims merge
 * where both inputs step through them as one (e.g. x [N,H,W,C] with a per-channel [C] becomes a
 * [N*H*W, C] loop over a contiguous a and a repeating b).
 */
function planBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): BroadcastPlan {
  const aFull = broadcastStrides(aShape, outShape);
  const bFull = broadcastStrides(bShape, outShape);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let d = outShape.length - 1; d >= 0; d--) {
    if (outShape[d] === 1) continue;
    const inner = dims.length - 1;
    const merges =
      inner >= 0 && aFull[d] === aStrides[inner] * dims[inner] && bFull[d] === bStrides[inner] * dims[inner];
    if (merges) {
      dims[inner] *= outShape[d];
    } else {
      dims.push(outShape[d]);
      aStrides.push(aFull[d]);
      bStrides.push(bFull[d]);
    }
  }
  if (dims.length === 0)
    return { dims: Int32Array.of(1), aStrides: Int32Array.of(0), bStrides: Int32Array.of(0) };
  return {
    dims: Int32Array.from(dims.reverse()),
    aStrides: Int32Array.from(aStrides.reverse()),
    bStrides: Int32Array.from(bStrides.reverse()),
  };
}

const BINARY_KERNELS: ReadonlyArray<[string, BinaryOp]> = [
  [tf.Add, BinaryOp.Add],
  [tf.Sub, BinaryOp.Sub],
  [tf.Multiply, BinaryOp.Mul],
  [tf.RealDiv, BinaryOp.Div],
  [tf.SquaredDifference, BinaryOp.SquaredDifference],
];

const UNARY_KERNELS: ReadonlyArray<[string, UnaryOp]> = [
  [tf.Relu, UnaryOp.Relu],
  [tf.Step, UnaryOp.Step],
  [tf.Square, UnaryOp.Square],
];

const size = (shape: readonly number[]): number => shape.reduce((x, y) => x * y, 1);

/** The addon's limit on dims left after merging (kMaxRank in elementwise.h). */
const MAX_BROADCAST_RANK = 8;

export function elementwiseKernelConfigs(addon: OnednnAddon): KernelConfig[] {
  const binary = BINARY_KERNELS.map(([name, op]) =>
    nativeKernelConfig(name, (inputs, backend) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      if (!isFloat32(a, b)) return null;
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      if (size(outShape) === 0) return null;
      const plan = planBroadcast(a.shape, b.shape, outShape);
      if (plan.dims.length > MAX_BROADCAST_RANK) return null;
      const out = backend.outputBuffer(size(outShape));
      addon.binary(
        op,
        backend.float32Values(a),
        backend.float32Values(b),
        out,
        plan.dims,
        plan.aStrides,
        plan.bStrides,
      );
      return backend.makeTensorInfo(outShape, 'float32', out);
    }),
  );
  const unary = UNARY_KERNELS.map(([name, op]) =>
    nativeKernelConfig<{ alpha?: number }>(name, (inputs, backend, attrs) => {
      const { x } = inputs as { x: TensorInfo };
      if (!isFloat32(x)) return null;
      const out = backend.outputBuffer(size(x.shape));
      addon.unary(op, backend.float32Values(x), out, attrs.alpha ?? 0);
      return backend.makeTensorInfo([...x.shape], 'float32', out);
    }),
  );
  return [...binary, ...unary];
}
