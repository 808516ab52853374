/**
 * Training-mode batch norm as one op, with the ReLU and the residual add of a ResNet block fused
 * in: y = act(scale·(x − mean)/sqrt(variance + ε) + offset (+ residual)), act = ReLU or identity,
 * with the batch mean and biased variance per channel over N·H·W.
 *
 * Backends that register the FUSED_BATCH_NORM and FUSED_BATCH_NORM_GRAD kernels run it in a pass
 * or two over the activations; on every other backend the same math runs as tfjs ops
 * (referenceFusedBatchNorm, referenceFusedBatchNormGrad), so the op works everywhere.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs';

export const FUSED_BATCH_NORM = 'ResnetFusedBatchNorm';
export const FUSED_BATCH_NORM_GRAD = 'ResnetFusedBatchNormGrad';

/** x NHWC float32 [N,H,W,C]; scale, offset [C]; residual the shape of x. */
export interface FusedBatchNormInputs {
  x: TensorInfo;
  scale: TensorInfo;
  offset: TensorInfo;
  residual?: TensorInfo;
}

export interface FusedBatchNormAttrs {
  epsilon: number;
  relu: boolean;
}

/** y is the forward output, whose sign is the ReLU's mask. */
export interface FusedBatchNormGradInputs {
  dy: TensorInfo;
  x: TensorInfo;
  scale: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  y: TensorInfo;
}

/** residual: whether the forward op had one, and so whether the kernel returns dResidual. */
export interface FusedBatchNormGradAttrs {
  epsilon: number;
  relu: boolean;
  residual: boolean;
}

/**
 * The shapes of a kernel's outputs for x of `xShape`: one like x (y, or dx), two per channel (mean
 * and variance, or dScale and dOffset) and, from the gradient of an op with a residual, dResidual
 * like x.
 */
export function fusedBatchNormOutputShapes(
  xShape: readonly number[],
  withResidualGradient = false,
): number[][] {
  const channels = xShape[xShape.length - 1];
  const shapes = [[...xShape], [channels], [channels]];
  return withResidualGradient ? [...shapes, [...xShape]] : shapes;
}

export interface FusedBatchNormResult {
  y: tf.Tensor4D;
  /** Kept (tf.keep): they outlive any tidy, and the caller disposes them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** The forward kernel's outputs: y, mean, variance. */
type FusedBatchNormOutputs = [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];

/** The forward op on tensors. */
type FusedBatchNormForward = (
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  residual: tf.Tensor4D | undefined,
  attrs: FusedBatchNormAttrs,
) => FusedBatchNormOutputs;

/** The forward kernel's outputs in the tfjs-ops form. */
export const referenceFusedBatchNorm: FusedBatchNormForward = (x, scale, offset, residual, attrs) =>
  tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const invStd = tf.rsqrt(tf.add(variance, attrs.epsilon));
    const normalised = tf.add(tf.mul(tf.mul(tf.sub(x, mean), invStd), scale), offset);
    const sum = residual ? tf.add(normalised, residual) : normalised;
    const y = (attrs.relu ? tf.relu(sum) : sum) as tf.Tensor4D;
    return [y, mean as tf.Tensor1D, variance as tf.Tensor1D];
  });

/** The grad kernel's outputs in the tfjs-ops form: [dx, dScale, dOffset] and dResidual when attrs.residual. */
export function referenceFusedBatchNormGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  y: tf.Tensor4D,
  attrs: FusedBatchNormGradAttrs,
): tf.Tensor[] {
  return tf.tidy(() => {
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    const g = attrs.relu ? tf.mul(dy, tf.step(y)) : dy;
    const invStd = tf.rsqrt(tf.add(variance, attrs.epsilon));
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const dOffset = tf.sum(g, [0, 1, 2]);
    const dScale = tf.sum(tf.mul(g, xHat), [0, 1, 2]);
    // dx = scale / sigma * (g - mean(g) - xHat * mean(g * xHat))
    const centred = tf.sub(tf.sub(g, tf.div(dOffset, count)), tf.mul(xHat, tf.div(dScale, count)));
    const dx = tf.mul(centred, tf.mul(scale, invStd));
    // A fresh tensor even when g is dy: the gradient must not share dy's lifetime.
    return attrs.residual ? [dx, dScale, dOffset, tf.clone(g)] : [dx, dScale, dOffset];
  });
}

function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

const runForward: FusedBatchNormForward = (x, scale, offset, residual, attrs) => {
  if (!hasKernel(FUSED_BATCH_NORM)) return referenceFusedBatchNorm(x, scale, offset, residual, attrs);
  const inputs: NamedTensorMap = residual ? { x, scale, offset, residual } : { x, scale, offset };
  const outputs = tf.engine().runKernel(FUSED_BATCH_NORM, inputs, attrs as unknown as NamedAttrMap);
  return outputs as unknown as FusedBatchNormOutputs;
};

function runGradient(
  dy: tf.Tensor4D,
  saved: [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D],
  attrs: FusedBatchNormGradAttrs,
): tf.Tensor[] {
  const [x, scale, mean, variance, y] = saved;
  if (!hasKernel(FUSED_BATCH_NORM_GRAD)) {
    return referenceFusedBatchNormGrad(dy, x, scale, mean, variance, y, attrs);
  }
  const inputs: NamedTensorMap = { dy, x, scale, mean, variance, y };
  return tf
    .engine()
    .runKernel(FUSED_BATCH_NORM_GRAD, inputs, attrs as unknown as NamedAttrMap) as unknown as tf.Tensor[];
}

/**
 * The fused op, differentiable in x, scale, offset and residual. Its gradient saves x and y (not
 * the normalised x): y is the next layer's input, which is kept for that layer's gradient anyway.
 */
export function fusedBatchNorm(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  residual: tf.Tensor4D | undefined,
  attrs: FusedBatchNormAttrs,
): FusedBatchNormResult {
  let statistics: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, scaleIn, offsetIn] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const residualIn = residual ? (args[3] as tf.Tensor4D) : undefined;
    const [y, mean, variance] = runForward(xIn, scaleIn, offsetIn, residualIn, attrs);
    statistics = [tf.keep(mean), tf.keep(variance)];
    save([xIn, scaleIn, mean, variance, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runGradient(
          dy as tf.Tensor4D,
          saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D],
          { ...attrs, residual: residual !== undefined },
        ),
    };
  });
  const y = (residual ? op(x, scale, offset, residual) : op(x, scale, offset)) as tf.Tensor4D;
  const [mean, variance] = statistics!;
  return { y, mean, variance };
}
