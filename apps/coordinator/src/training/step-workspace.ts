import { StepAggregator } from '@resnet/optimizer';
import { ReusableBuffer, ReusableBufferPool } from '@resnet/protocol';
import { PartitionedModel } from '@resnet/job';
import { StepPhases } from './step-phases';

/**
 * What a job's training loop keeps from one step to the next, so that a step allocates no memory
 * in proportion to the model: the aggregation sums (one aggregator per partition of the model),
 * buffers for the shards' gradient messages and for the encoded weights, and the timings of the
 * step's phases. For ResNet-50 each of these is 100 to 200 MB, which fresh every step would cost
 * page faults and garbage collections.
 */
export class StepWorkspace {
  readonly phases = new StepPhases();
  /** Partition i's aggregator folds the shards' messages of partition i. */
  readonly aggregators: readonly StepAggregator[];
  /** The encoded weights of the last step, per partition: valid until the next step encodes its own. */
  readonly weightsMessages: readonly ReusableBuffer[];
  readonly velocityMessages: readonly ReusableBuffer[];
  private readonly gradientMessages = new ReusableBufferPool();

  constructor(
    readonly model: PartitionedModel,
    shardsPerStep: number,
  ) {
    const { partitions } = model;
    this.aggregators = partitions.map(
      (p) =>
        new StepAggregator(
          p.end - p.start,
          shardsPerStep,
          p.layouts.batchNorms.map((b) => b.channels),
        ),
    );
    this.weightsMessages = partitions.map(() => new ReusableBuffer());
    this.velocityMessages = partitions.map(() => new ReusableBuffer());
  }

  beginStep(): void {
    this.phases.beginStep();
    for (const aggregator of this.aggregators) aggregator.reset();
    this.gradientMessages.releaseAll();
  }

  /** Memory for one gradient message of this step, or its widened values (kept until the next step, as the aggregator may hold them). */
  gradientBuffer(): ReusableBuffer {
    return this.gradientMessages.next();
  }
}
