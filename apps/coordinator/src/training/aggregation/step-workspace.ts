import { ModelWeights } from '@resnet/model';
import { PartitionedModel } from '@resnet/job';
import { ModelMemory, PartitionAggregation } from './partition-aggregation';
import { StepPhases } from '../step-phases';

/** A model's vectors in memory that threads share. */
export interface SharedModelMemory {
  readonly params: SharedArrayBuffer;
  readonly state: SharedArrayBuffer;
  readonly velocity: SharedArrayBuffer;
}

/** Shared memory holding a copy of the weights and momentum, and the views that read and write it. */
export function sharedModelMemory(
  weights: ModelWeights,
  velocity: Float32Array,
): { shared: SharedModelMemory; memory: ModelMemory } {
  const copy = (values: Float32Array): { buffer: SharedArrayBuffer; view: Float32Array } => {
    const buffer = new SharedArrayBuffer(values.byteLength);
    const view = new Float32Array(buffer);
    view.set(values);
    return { buffer, view };
  };
  const [params, state, momentum] = [weights.params, weights.state, velocity].map(copy);
  return {
    shared: { params: params.buffer, state: state.buffer, velocity: momentum.buffer },
    memory: { params: params.view, state: state.view, velocity: momentum.view },
  };
}

/**
 * What a job's training loop keeps from one step to the next: the model it updates in place
 * (weights and momentum), the aggregator of each of its partitions with their buffers, and the
 * timings of the step's phases. Nothing in proportion to the model is allocated per step: for
 * ResNet-50 each buffer is 100 to 200 MB, which fresh every step would cost page faults and
 * garbage collections.
 */
export class StepWorkspace {
  readonly phases = new StepPhases();

  constructor(
    readonly model: PartitionedModel,
    /** The weights and momentum, updated in place by each step (by each partition's aggregator, its share). */
    readonly memory: ModelMemory,
    /** Partition i's aggregator, in partition order. */
    readonly aggregators: readonly PartitionAggregation[],
  ) {}

  async beginStep(): Promise<void> {
    this.phases.beginStep();
    await Promise.all(this.aggregators.map((a) => a.beginStep()));
  }

  async close(): Promise<void> {
    await Promise.all(this.aggregators.map((a) => a.close()));
  }
}
