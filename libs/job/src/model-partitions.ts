import { ModelLayouts, ModelWeights, ParameterLayout, TensorSpec } from '@resnet/model';
import { CodecError, ReusableBuffer, TensorCodec } from '@resnet/protocol';
import { ModelTensorCodec } from './model-tensor-codec';
import { TrainingJobSpec } from './training-job';

/**
 * One of the parts a job splits its model into for aggregation (TrainingJobSpec.partitions): a run
 * of whole parameter tensors, values [start, end) of the parameter vector. Each part travels as a
 * message of its own and is folded, updated and stored by its own aggregator, under keys that a
 * Redis Cluster serves from its own master. Partition 0 also carries the batch-norm state, which
 * is small and pooled over shards rather than summed.
 */
export interface ModelPartition {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** The partition as a model of its own, for ModelTensorCodec: its tensors, and the state in partition 0 only. */
  readonly layouts: ModelLayouts;
}

/** A job's model with the partitions its weights and gradients travel in. */
export interface PartitionedModel {
  readonly layouts: ModelLayouts;
  readonly partitions: readonly ModelPartition[];
}

/** Specs stored before partitions existed (in Redis, in checkpoints) have none: one part. */
export function partitionCountOf(spec: Pick<TrainingJobSpec, 'partitions'>): number {
  return spec.partitions ?? 1;
}

export function partitionedModel(
  spec: Pick<TrainingJobSpec, 'partitions'>,
  layouts: ModelLayouts,
): PartitionedModel {
  return { layouts, partitions: modelPartitions(layouts, partitionCountOf(spec)) };
}

/**
 * Splits the parameter vector into `count` runs of whole tensors of about equal size: each cut is
 * the tensor boundary nearest to an equal share. The split depends only on the layouts and the
 * count, so the coordinator and every worker compute the same one.
 */
export function modelPartitions(layouts: ModelLayouts, count: number): ModelPartition[] {
  const tensors = layouts.params.tensors;
  if (!Number.isInteger(count) || count < 1 || count > tensors.length) {
    throw new RangeError(
      `a model of ${tensors.length} parameter tensors cannot be split into ${count} partitions`,
    );
  }
  if (count === 1) return [{ index: 0, start: 0, end: layouts.params.size, layouts }];
  // cuts[i]: the index of partition i's first tensor.
  const cuts = [0];
  for (let i = 1; i < count; i++) {
    const share = (layouts.params.size * i) / count;
    let cut = cuts[i - 1] + 1;
    while (
      cut < tensors.length - (count - i) &&
      Math.abs(tensors[cut + 1].offset - share) <= Math.abs(tensors[cut].offset - share)
    )
      cut++;
    cuts.push(cut);
  }
  cuts.push(tensors.length);
  const noState: ModelLayouts = { params: layouts.params, state: new ParameterLayout([]), batchNorms: [] };
  return cuts.slice(0, -1).map((first, index) => {
    const own = tensors.slice(first, cuts[index + 1]);
    const base = index === 0 ? layouts : noState;
    return {
      index,
      start: own[0].offset,
      end: own[own.length - 1].offset + own[own.length - 1].size,
      layouts: { ...base, params: new ParameterLayout(own.map(entryOf)) },
    };
  });
}

function entryOf(t: TensorSpec): ConstructorParameters<typeof ParameterLayout>[0][number] {
  return { name: t.name, shape: t.shape, init: t.init, fanIn: t.fanIn };
}

/** Partition `p`'s share of a model-sized pair of vectors: views, not copies. */
export function partitionOf(
  p: ModelPartition,
  whole: { readonly params: Float32Array; readonly state: Float32Array },
): { params: Float32Array; state: Float32Array } {
  return {
    params: whole.params.subarray(p.start, p.end),
    state: p.index === 0 ? whole.state : whole.state.subarray(0, 0),
  };
}

/**
 * Weights versions and optimizer state as the messages of a partitioned model, one per partition.
 * With one partition these are exactly the messages of an unsplit model.
 */
export const PartitionedModelCodec = {
  encodeWeights(
    partitions: readonly ModelPartition[],
    weights: ModelWeights,
    meta: { readonly version: number },
  ): Buffer[] {
    return partitions.map((p) => PartitionedModelCodec.encodeWeightsOf(p, partitions.length, weights, meta));
  },

  /** Partition `p`'s message of a version: the part of `weights` it holds, from the whole model. */
  encodeWeightsOf(
    p: ModelPartition,
    count: number,
    weights: ModelWeights,
    meta: { readonly version: number },
    into?: ReusableBuffer,
  ): Buffer {
    const part = partitionOf(p, weights);
    const partMeta = count === 1 ? meta : { ...meta, partition: p.index };
    return ModelTensorCodec.encode(p.layouts, part.params, part.state, partMeta, { into });
  },

  /**
   * The whole model from its partitions' messages. One partition is decoded in place (the result
   * shares memory with the message); several are gathered into `into` or fresh arrays.
   */
  decodeWeights(
    partitions: readonly ModelPartition[],
    layouts: ModelLayouts,
    messages: readonly Buffer[],
    into?: ModelWeights,
  ): ModelWeights {
    if (messages.length !== partitions.length)
      throw new CodecError(`${messages.length} weights messages for ${partitions.length} partitions`);
    if (partitions.length === 1) {
      const { params, state } = ModelTensorCodec.decode(partitions[0].layouts, messages[0]);
      return { params, state };
    }
    const whole = into ?? {
      params: new Float32Array(layouts.params.size),
      state: new Float32Array(layouts.state.size),
    };
    partitions.forEach((p, i) => {
      const part = ModelTensorCodec.decode<{ partition?: number }>(p.layouts, messages[i]);
      if ((part.meta?.partition ?? 0) !== p.index)
        throw new CodecError(`message ${i} holds partition ${part.meta?.partition}, not ${p.index}`);
      whole.params.set(part.params, p.start);
      if (p.index === 0) whole.state.set(part.state);
    });
    return whole;
  },

  encodeVelocity(partitions: readonly ModelPartition[], velocity: Float32Array): Buffer[] {
    return partitions.map((p) => PartitionedModelCodec.encodeVelocityOf(p, velocity));
  },

  /** Partition `p`'s part of the whole optimizer state, as a message. */
  encodeVelocityOf(p: ModelPartition, velocity: Float32Array, into?: ReusableBuffer): Buffer {
    const part = velocity.subarray(p.start, p.end);
    return TensorCodec.encode([{ name: 'velocity', shape: [part.length] }], [part], {}, { into });
  },

  /** The whole optimizer state (a fresh array) from its partitions' messages. */
  decodeVelocity(partitions: readonly ModelPartition[], messages: readonly Buffer[]): Float32Array {
    const size = partitions[partitions.length - 1].end;
    const velocity = new Float32Array(size);
    partitions.forEach((p, i) => {
      const { data } = TensorCodec.decode(messages[i]);
      if (data.length !== p.end - p.start)
        throw new CodecError(
          `optimizer state of partition ${p.index} holds ${data.length} values, expected ${p.end - p.start}`,
        );
      velocity.set(data, p.start);
    });
    return velocity;
  },
};
