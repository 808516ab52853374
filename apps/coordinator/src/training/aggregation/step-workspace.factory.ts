import { Inject, Injectable } from '@nestjs/common';
import { layoutsOf, ModelWeights } from '@resnet/model';
import { RedisKeys } from '@resnet/protocol';
import {
  architectureOf,
  foldGroupOf,
  ModelPartition,
  partitionCountOf,
  partitionedModel,
  TrainingJobSpec,
} from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../../coordinator.config';
import { BLOBS } from '../../repositories/redis.providers';
import { SharedModelMemory, sharedModelMemory, StepWorkspace } from './step-workspace';
import { ModelMemory, PartitionAggregation } from './partition-aggregation';
import { PartitionAggregator } from './partition-aggregator';
import { ThreadedPartitionAggregator } from './threaded-partition-aggregator';

/**
 * Opens the workspace of a job's training loop: the model in shared memory, and one aggregator per
 * partition. An unsplit model is aggregated in the loop's own thread, over the coordinator's blob
 * connection; each partition of a split one in a thread of its own, with its own connection.
 */
@Injectable()
export class StepWorkspaceFactory {
  constructor(
    @Inject(BLOBS) private readonly blobs: BlobStore,
    private readonly keys: RedisKeys,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  /** Close it when the loop ends: it holds the aggregator threads. */
  open(spec: TrainingJobSpec, weights: ModelWeights, velocity: Float32Array): StepWorkspace {
    if (partitionCountOf(spec) === 1)
      return inProcessWorkspace(spec, weights, velocity, this.blobs, this.keys);
    return workspaceOf(
      spec,
      weights,
      velocity,
      (p, _memory, shared) =>
        new ThreadedPartitionAggregator({
          spec,
          partition: p.index,
          memory: shared,
          redisUrl: this.config.redisUrl,
          redisPrefix: this.config.redisPrefix,
        }),
    );
  }
}

/** A workspace whose partitions are all aggregated in the calling thread, over `blobs`. */
export function inProcessWorkspace(
  spec: TrainingJobSpec,
  weights: ModelWeights,
  velocity: Float32Array,
  blobs: BlobStore,
  keys: RedisKeys,
): StepWorkspace {
  const count = partitionCountOf(spec);
  return workspaceOf(
    spec,
    weights,
    velocity,
    (p, memory) =>
      new PartitionAggregator(p, count, spec.shardsPerStep, foldGroupOf(spec), memory, blobs, keys),
  );
}

/** The job's model copied into shared memory, and the aggregator `aggregatorOf` gives each partition. */
function workspaceOf(
  spec: TrainingJobSpec,
  weights: ModelWeights,
  velocity: Float32Array,
  aggregatorOf: (p: ModelPartition, memory: ModelMemory, shared: SharedModelMemory) => PartitionAggregation,
): StepWorkspace {
  const model = partitionedModel(spec, layoutsOf(architectureOf(spec)));
  const { shared, memory } = sharedModelMemory(weights, velocity);
  return new StepWorkspace(
    model,
    memory,
    model.partitions.map((p) => aggregatorOf(p, memory, shared)),
  );
}
