import * as tf from '@tensorflow/tfjs';
import { ConvSpec, ResNetArchitecture } from './architecture';

/** PyTorch's BatchNorm2d epsilon, so results compare with the reference scripts. */
export const BATCH_NORM_EPSILON = 1e-5;

export type TensorLookup = (name: string) => tf.Tensor;

/**
 * Where a training forward pass leaves each batch norm's batch mean and (biased) variance, in
 * batch-norm order; the coordinator merges them across shards into the running statistics.
 */
export type BatchStatsSink = tf.Tensor1D[];

/**
 * Training-mode batch norm with a hand-written backward pass: the textbook closed form needs two
 * channel reductions, where differentiating the forward ops would broadcast and tile full-size
 * tensors.
 */
function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  sink: BatchStatsSink,
): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, scale, offset] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xIn, [0, 1, 2]);
    const invStd = tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON));
    const normalised = tf.mul(tf.sub(xIn, mean), invStd);
    sink.push(tf.keep(mean as tf.Tensor1D), tf.keep(variance as tf.Tensor1D));
    save([normalised, invStd, scale]);
    return {
      value: tf.add(tf.mul(normalised, scale), offset),
      gradFunc: (dy, saved) => {
        const [xHat, inv, g] = saved;
        const count = xIn.shape[0] * xIn.shape[1] * xIn.shape[2];
        const dBeta = tf.sum(dy, [0, 1, 2]);
        const dGamma = tf.sum(tf.mul(dy, xHat), [0, 1, 2]);
        // dx = gamma / sigma * (dy - mean(dy) - xHat * mean(dy * xHat))
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xHat, tf.div(dGamma, count)));
        return [tf.mul(centred, tf.mul(g, inv)), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

function batchNormEval(x: tf.Tensor4D, name: string, get: TensorLookup): tf.Tensor4D {
  const scale = tf.mul(get(`${name}/gamma`), tf.rsqrt(tf.add(get(`${name}/variance`), BATCH_NORM_EPSILON)));
  const shift = tf.sub(get(`${name}/beta`), tf.mul(get(`${name}/mean`), scale));
  return tf.add(tf.mul(x, scale), shift);
}

/** 'same' padding keeps a stride-1 convolution's size; 1×1 kernels (projections) need none. */
export function convPadding(spec: ConvSpec): 'same' | 'valid' {
  return spec.kernel === 1 ? 'valid' : 'same';
}

/** The ImageNet stem's max-pool: 3×3 windows, stride 2, 'same' padding. */
export const STEM_MAX_POOL = { size: 3, stride: 2 } as const;

/**
 * Option A of the paper (subsample spatially, append zero channels) as the fixed 0/1 kernel of a
 * 1×1 strided convolution, so that both directions use the fast convolution kernels.
 */
export function zeroPadKernel(spec: ConvSpec): tf.Tensor4D {
  const selection = new Float32Array(spec.inChannels * spec.outChannels);
  for (let c = 0; c < spec.inChannels; c++) selection[c * spec.outChannels + c] = 1;
  return tf.tensor4d(selection, [1, 1, spec.inChannels, spec.outChannels]);
}

/**
 * The operations a ResNet is made of. resnetGraph wires them up from an architecture, so that
 * computing with tensors (resnetLogits) and building a tfjs-layers model (toLayersModel) share one
 * description of the network. Names are unique per network, for layers that need one.
 */
export interface ResNetOps<Features, Logits> {
  /** Convolution without bias (padding as convPadding), then batch norm. */
  convBn(x: Features, spec: ConvSpec): Features;
  zeroPadShortcut(x: Features, spec: ConvSpec): Features;
  relu(x: Features, name: string): Features;
  add(a: Features, b: Features, name: string): Features;
  /** STEM_MAX_POOL. */
  maxPool(x: Features, name: string): Features;
  /** Global average pooling, then the fully connected layer. */
  classifier(x: Features): Logits;
}

/**
 * Walks a ResNet in forward order with `ops`: stem (and max-pool), then each residual block
 * (branch convolutions with ReLU between them, shortcut, add, ReLU), then the classifier.
 */
export function resnetGraph<Features, Logits>(
  arch: ResNetArchitecture,
  ops: ResNetOps<Features, Logits>,
  x: Features,
): Logits {
  let h = ops.relu(ops.convBn(x, arch.stem), `${arch.stem.name}/relu`);
  if (arch.stemMaxPool) h = ops.maxPool(h, 'stem/maxpool');
  for (const block of arch.blocks) {
    let branch = h;
    block.convs.forEach((c, i) => {
      branch = ops.convBn(branch, c);
      if (i < block.convs.length - 1) branch = ops.relu(branch, `${c.name}/relu`);
    });
    const shortcut = !block.shortcut
      ? h
      : block.shortcut.kind === 'projection'
        ? ops.convBn(h, block.shortcut.conv)
        : ops.zeroPadShortcut(h, block.shortcut.conv);
    h = ops.relu(ops.add(branch, shortcut, `${block.name}/add`), `${block.name}/relu`);
  }
  return ops.classifier(h);
}

/**
 * The forward pass of a ResNet on NHWC input. With a `sink` it runs in training mode (batch
 * statistics, which it records); without one, in inference mode (running statistics).
 */
export function resnetLogits(
  arch: ResNetArchitecture,
  get: TensorLookup,
  x: tf.Tensor4D,
  sink: BatchStatsSink | null,
): tf.Tensor2D {
  return resnetGraph<tf.Tensor4D, tf.Tensor2D>(
    arch,
    {
      convBn(input, spec) {
        const y = tf.conv2d(input, get(`${spec.name}/kernel`) as tf.Tensor4D, spec.stride, convPadding(spec));
        const bn = `${spec.name}/bn`;
        return sink
          ? batchNormTrain(y, get(`${bn}/gamma`) as tf.Tensor1D, get(`${bn}/beta`) as tf.Tensor1D, sink)
          : batchNormEval(y, bn, get);
      },
      zeroPadShortcut: (input, spec) => tf.conv2d(input, zeroPadKernel(spec), spec.stride, 'valid'),
      relu: (input) => tf.relu(input),
      add: (a, b) => tf.add(a, b) as tf.Tensor4D,
      maxPool: (input) => tf.maxPool(input, STEM_MAX_POOL.size, STEM_MAX_POOL.stride, 'same'),
      classifier(input) {
        const features = tf.mean(input, [1, 2]) as tf.Tensor2D;
        return tf.add(tf.matMul(features, get('fc/kernel') as tf.Tensor2D), get('fc/bias')) as tf.Tensor2D;
      },
    },
    x,
  );
}

/** Sum (not mean) of the per-sample cross-entropy, so shard results add up across shards. */
export function crossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)))) as tf.Scalar;
}
