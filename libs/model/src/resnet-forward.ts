import * as tf from '@tensorflow/tfjs';
import { ConvSpec, ResNetArchitecture } from './architecture';
import { fusedBatchNorm } from './ops/fused-batch-norm';
import { convolutions } from './parameter-layout';

/** PyTorch's BatchNorm2d epsilon, so results compare with the reference scripts. */
export const BATCH_NORM_EPSILON = 1e-5;

export type TensorLookup = (name: string) => tf.Tensor;

/**
 * Where a training forward pass leaves each batch norm's batch mean and (biased) variance, in
 * batch-norm order; the coordinator merges them across shards into the running statistics.
 */
export type BatchStatsSink = tf.Tensor1D[];

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

/** What follows a batch norm in the graph: the block's residual add, then ReLU (names for layers). */
export interface ConvBnEpilogue<Features> {
  residual?: { shortcut: Features; name: string };
  relu?: string;
}

/**
 * The operations a ResNet is made of. resnetGraph wires them up from an architecture, so that
 * computing with tensors (resnetLogits) and building a tfjs-layers model (toLayersModel) share one
 * description of the network. Names are unique per network, for layers that need one.
 */
export interface ResNetOps<Features, Logits> {
  /**
   * Convolution without bias (padding as convPadding), batch norm, then the epilogue's residual
   * add and ReLU: one call, so that training can run the last three as one fused op.
   */
  convBn(x: Features, spec: ConvSpec, epilogue: ConvBnEpilogue<Features>): Features;
  zeroPadShortcut(x: Features, spec: ConvSpec): Features;
  /** STEM_MAX_POOL. */
  maxPool(x: Features, name: string): Features;
  /** Global average pooling, then the fully connected layer. */
  classifier(x: Features): Logits;
}

/**
 * Walks a ResNet in forward order with `ops`: stem (and max-pool), then each residual block
 * (shortcut, then branch convolutions with ReLU between them, the last one adding the shortcut
 * before its ReLU), then the classifier.
 */
export function resnetGraph<Features, Logits>(
  arch: ResNetArchitecture,
  ops: ResNetOps<Features, Logits>,
  x: Features,
): Logits {
  let h = ops.convBn(x, arch.stem, { relu: `${arch.stem.name}/relu` });
  if (arch.stemMaxPool) h = ops.maxPool(h, 'stem/maxpool');
  for (const block of arch.blocks) {
    const shortcut = !block.shortcut
      ? h
      : block.shortcut.kind === 'projection'
        ? ops.convBn(h, block.shortcut.conv, {})
        : ops.zeroPadShortcut(h, block.shortcut.conv);
    let branch = h;
    block.convs.forEach((c, i) => {
      const last = i === block.convs.length - 1;
      branch = ops.convBn(
        branch,
        c,
        last
          ? { residual: { shortcut, name: `${block.name}/add` }, relu: `${block.name}/relu` }
          : { relu: `${c.name}/relu` },
      );
    });
    h = branch;
  }
  return ops.classifier(h);
}

/** ResNetOps on tensors, with the weights `get` finds, around the given convBn. */
export function tensorResNetOps(
  get: TensorLookup,
  convBn: ResNetOps<tf.Tensor4D, tf.Tensor2D>['convBn'],
): ResNetOps<tf.Tensor4D, tf.Tensor2D> {
  return {
    convBn,
    zeroPadShortcut: (input, spec) => tf.conv2d(input, zeroPadKernel(spec), spec.stride, 'valid'),
    maxPool: (input) => tf.maxPool(input, STEM_MAX_POOL.size, STEM_MAX_POOL.stride, 'same'),
    classifier(input) {
      const features = tf.mean(input, [1, 2]) as tf.Tensor2D;
      return tf.add(tf.matMul(features, get('fc/kernel') as tf.Tensor2D), get('fc/bias')) as tf.Tensor2D;
    },
  };
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
  // The graph reaches a projection shortcut's batch norm before its block's last one; the sink
  // takes them in batch-norm (layout) order.
  const statistics = new Map<string, [tf.Tensor1D, tf.Tensor1D]>();
  const logits = resnetGraph(
    arch,
    tensorResNetOps(get, (input, spec, epilogue) => {
      const y = tf.conv2d(input, get(`${spec.name}/kernel`) as tf.Tensor4D, spec.stride, convPadding(spec));
      const bn = `${spec.name}/bn`;
      if (sink) {
        const out = fusedBatchNorm(
          y,
          get(`${bn}/gamma`) as tf.Tensor1D,
          get(`${bn}/beta`) as tf.Tensor1D,
          epilogue.residual?.shortcut,
          { epsilon: BATCH_NORM_EPSILON, relu: epilogue.relu !== undefined },
        );
        statistics.set(spec.name, [out.mean, out.variance]);
        return out.y;
      }
      const normalised = batchNormEval(y, bn, get);
      const sum = epilogue.residual ? tf.add(normalised, epilogue.residual.shortcut) : normalised;
      return (epilogue.relu ? tf.relu(sum) : sum) as tf.Tensor4D;
    }),
    x,
  );
  for (const conv of convolutions(arch)) sink?.push(...statistics.get(conv.name)!);
  return logits;
}

/** Sum (not mean) of the per-sample cross-entropy, so shard results add up across shards. */
export function crossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)))) as tf.Scalar;
}
