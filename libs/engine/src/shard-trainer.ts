// The union package, not tfjs-core alone: it also registers every op's gradient.
import * as tf from '@tensorflow/tfjs';
import {
  BatchStatsSink,
  crossEntropySum,
  layoutsOf,
  ModelLayouts,
  ModelWeights,
  ResNetArchitecture,
  resnetLogits,
} from '@resnet/model';
import { DEFAULT_PRECISION, Precision } from '@resnet/protocol';
import { setComputePrecision } from './compute-backend';

/** One shard's normalised images (NHWC) and labels. */
export interface ShardBatch {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

export interface ShardGradient {
  /** Gradient of the summed loss (not the mean), in the parameter layout. */
  readonly gradientSum: Float32Array;
  /** Each batch norm's batch mean and biased variance, in the state layout. */
  readonly batchStats: Float32Array;
  readonly lossSum: number;
  readonly correct: number;
  readonly count: number;
}

export interface ShardEvaluation {
  readonly lossSum: number;
  readonly correct: number;
  /** Samples whose label is among the 5 highest logits (all of them when there are at most 5 classes). */
  readonly correctTop5: number;
  readonly count: number;
}

/**
 * Computes a ResNet's gradients and evaluations on the active TensorFlow.js backend for whatever
 * weights it was last given, at the job's precision (set on the backend for each shard only, since a
 * worker may alternate between jobs). Holds the weights as tensors so that shards of the same
 * version reuse them.
 */
export class ShardTrainer {
  readonly layouts: ModelLayouts;
  private tensors = new Map<string, tf.Tensor>();

  constructor(
    readonly arch: ResNetArchitecture,
    readonly precision: Precision = DEFAULT_PRECISION,
  ) {
    this.layouts = layoutsOf(arch);
  }

  /**
   * One tensor per named weight, each a view of the flat vector: on a GPU each becomes its own
   * buffer write when first used, with no slicing dispatch per tensor.
   */
  setWeights(weights: ModelWeights): void {
    this.disposeWeights();
    for (const [layout, flat] of [
      [this.layouts.params, weights.params],
      [this.layouts.state, weights.state],
    ] as const) {
      for (const t of layout.tensors) {
        this.tensors.set(t.name, tf.tensor(flat.subarray(t.offset, t.offset + t.size), [...t.shape]));
      }
    }
  }

  trainShard(batch: ShardBatch): Promise<ShardGradient> {
    return this.atPrecision(() => this.train(batch));
  }

  /**
   * The batch's summed loss and correct counts, computed `microBatch` samples at a time: a forward
   * pass keeps every layer's activations until it ends, so a whole evaluation shard at once (1,000
   * images, say) would take several times a training shard's memory. Each micro-batch's tensors are
   * freed before the next one starts. Workers pass their job's training shard size, which keeps
   * evaluation within the memory training already needs.
   */
  evaluate(batch: ShardBatch, microBatch = batch.count): Promise<ShardEvaluation> {
    return this.atPrecision(() => this.evaluateInMicroBatches(batch, microBatch));
  }

  /**
   * Each batch norm's mean and biased variance over `batch` in training mode (a forward pass
   * only), in the state layout: what re-estimating the running statistics pools.
   */
  batchStatistics(batch: ShardBatch): Promise<Float32Array> {
    return this.atPrecision(() => this.statisticsOf(batch));
  }

  /** Runs `compute` at the job's precision, leaving the backend's as it found it. */
  private async atPrecision<T>(compute: () => Promise<T>): Promise<T> {
    const previous = setComputePrecision(this.precision);
    try {
      return await compute();
    } finally {
      setComputePrecision(previous);
    }
  }

  private async train(batch: ShardBatch): Promise<ShardGradient> {
    const params = this.layouts.params.tensors;
    const sink: BatchStatsSink = [];
    let correct: tf.Scalar | undefined;
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3]);
      const y = tf.tensor1d(batch.y, 'int32');
      return tf.valueAndGrads((...p: tf.Tensor[]) => {
        const bound = new Map(params.map((spec, i) => [spec.name, p[i]]));
        const logits = resnetLogits(this.arch, (name) => bound.get(name) ?? this.get(name), x, sink);
        correct = tf.keep(countCorrect(logits, y));
        return crossEntropySum(logits, y);
      })(params.map((spec) => this.get(spec.name)));
    });
    // One download: the gradients, batch statistics, loss and correct count packed on the device.
    const packed = tf.tidy(() =>
      tf.concat([
        ...grads.map((g) => tf.reshape(g, [-1])),
        ...sink,
        tf.reshape(value, [1]),
        tf.reshape(tf.cast(correct!, 'float32'), [1]),
      ]),
    );
    tf.dispose([value, ...grads, ...sink, correct!]);
    try {
      const values = await packed.data<'float32'>();
      const gradientSum = new Float32Array(this.layouts.params.size);
      let offset = 0;
      for (const p of params) {
        gradientSum.set(values.subarray(offset, offset + p.size), p.offset);
        offset += p.size;
      }
      const batchStats = values.slice(offset, offset + this.layouts.state.size);
      offset += this.layouts.state.size;
      return {
        gradientSum,
        batchStats,
        lossSum: values[offset],
        correct: values[offset + 1],
        count: batch.count,
      };
    } finally {
      packed.dispose();
    }
  }

  private async statisticsOf(batch: ShardBatch): Promise<Float32Array> {
    const sink: BatchStatsSink = [];
    const packed = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3]);
      resnetLogits(this.arch, (name) => this.get(name), x, sink);
      return tf.concat(sink);
    });
    tf.dispose(sink);
    try {
      return (await packed.data<'float32'>()).slice();
    } finally {
      packed.dispose();
    }
  }

  private async evaluateInMicroBatches(batch: ShardBatch, microBatch: number): Promise<ShardEvaluation> {
    if (!Number.isSafeInteger(microBatch) || microBatch < 1)
      throw new RangeError(`evaluation micro-batch must be a positive integer, got ${microBatch}`);
    const pixels = batch.height * batch.width * 3;
    const total = { lossSum: 0, correct: 0, correctTop5: 0, count: batch.count };
    for (let start = 0; start < batch.count; start += microBatch) {
      const count = Math.min(microBatch, batch.count - start);
      const sums = tf.tidy(() => {
        const x = tf.tensor4d(batch.x.subarray(start * pixels, (start + count) * pixels), [
          count,
          batch.height,
          batch.width,
          3,
        ]);
        const y = tf.tensor1d(batch.y.subarray(start, start + count), 'int32');
        const logits = resnetLogits(this.arch, (name) => this.get(name), x, null);
        return tf.stack([
          crossEntropySum(logits, y),
          tf.cast(countCorrect(logits, y), 'float32'),
          tf.cast(countInTopK(logits, y, 5), 'float32'),
        ]);
      });
      try {
        const [lossSum, correct, correctTop5] = await sums.data<'float32'>();
        total.lossSum += lossSum;
        total.correct += correct;
        total.correctTop5 += correctTop5;
      } finally {
        sums.dispose();
      }
    }
    return total;
  }

  dispose(): void {
    this.disposeWeights();
  }

  private get(name: string): tf.Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`ShardTrainer has no weights loaded (missing ${name}); call setWeights first`);
    return t;
  }

  private disposeWeights(): void {
    tf.dispose([...this.tensors.values()]);
    this.tensors.clear();
  }
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32'));
}

function countInTopK(logits: tf.Tensor2D, labels: tf.Tensor1D, k: number): tf.Scalar {
  const { indices } = tf.topk(logits, Math.min(k, logits.shape[1]));
  return tf.sum(tf.cast(tf.equal(indices, tf.expandDims(labels, 1)), 'int32'));
}
