import { ModelLayouts } from '@resnet/model';
import { StepAggregator } from '@resnet/optimizer';
import { ReusableBuffer, ReusableBufferPool } from '@resnet/protocol';
import { StepPhases } from './step-phases';

/**
 * What a job's training loop keeps from one step to the next, so that a step allocates no memory
 * in proportion to the model: the aggregation sums, buffers for the shards' gradient messages and
 * for the encoded weights, and the timings of the step's phases. For ResNet-50 each of these is
 * 100 to 200 MB, which fresh every step would cost page faults and garbage collections.
 */
export class StepWorkspace {
  readonly phases = new StepPhases();
  readonly aggregator: StepAggregator;
  /** The encoded weights of the last step: valid until the next step encodes its own. */
  readonly weightsMessage = new ReusableBuffer();
  readonly velocityMessage = new ReusableBuffer();
  private readonly gradientMessages = new ReusableBufferPool();

  constructor(layouts: ModelLayouts, shardsPerStep: number) {
    this.aggregator = new StepAggregator(
      layouts.params.size,
      shardsPerStep,
      layouts.batchNorms.map((b) => b.channels),
    );
  }

  beginStep(): void {
    this.phases.beginStep();
    this.aggregator.reset();
    this.gradientMessages.releaseAll();
  }

  /** Memory for one gradient message of this step, or its widened values (kept until the next step, as the aggregator may hold them). */
  gradientBuffer(): ReusableBuffer {
    return this.gradientMessages.next();
  }
}
