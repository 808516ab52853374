import { applyRoundInPlace, applyStepInPlace, ShardContribution, StepAggregator } from '@resnet/optimizer';
import { RedisKeys, ReusableBuffer, ReusableBufferPool, ShardOutcome } from '@resnet/protocol';
import { ModelPartition, PartitionedModelCodec, partitionOf } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { ExpectedMessage, validatedContribution } from '../shard-result.validator';
import { ModelMemory, PartitionAggregation, PartitionUpdate, StepTotals } from './partition-aggregation';

/** How long a step's staged weights and optimizer state outlive a commit that never comes. */
const STAGED_TTL_SECONDS = 3600;

/** PartitionAggregation where it is called: in the loop's own thread, or inside an aggregator thread. */
export class PartitionAggregator implements PartitionAggregation {
  private readonly aggregator: StepAggregator;
  private readonly checked = new Map<number, ShardContribution>();
  /** The step's messages (or their widened values), kept until the next step: the aggregator may hold them. */
  private readonly messages = new ReusableBufferPool();
  private readonly weightsMessage = new ReusableBuffer();
  private readonly velocityMessage = new ReusableBuffer();

  constructor(
    private readonly partition: ModelPartition,
    private readonly partitions: number,
    shardsPerStep: number,
    foldGroup: number,
    private readonly memory: ModelMemory,
    private readonly blobs: BlobStore,
    private readonly keys: RedisKeys,
  ) {
    this.aggregator = new StepAggregator(
      partition.end - partition.start,
      shardsPerStep,
      partition.layouts.batchNorms.map((b) => b.channels),
      foldGroup,
    );
  }

  async beginStep(): Promise<void> {
    this.aggregator.reset();
    this.checked.clear();
    this.messages.releaseAll();
  }

  async check(
    shard: number,
    key: string | undefined,
    outcome: ShardOutcome,
    expected: ExpectedMessage,
  ): Promise<void> {
    const message = key ? await this.blobs.get(key, this.messages.next()) : null;
    this.checked.set(
      shard,
      validatedContribution(this.partition.layouts, outcome, message, expected, this.messages.next()),
    );
  }

  async fold(shard: number): Promise<boolean> {
    const contribution = this.checked.get(shard);
    if (!contribution) throw new Error(`shard ${shard} of partition ${this.partition.index} was not checked`);
    this.checked.delete(shard);
    return this.aggregator.add(shard, contribution);
  }

  async drop(shard: number): Promise<void> {
    this.checked.delete(shard);
  }

  async update({ lr, sgd, localSteps }: PartitionUpdate): Promise<{ finite: boolean; totals: StepTotals }> {
    const p = this.partition;
    const part = { ...partitionOf(p, this.memory), velocity: this.memory.velocity.subarray(p.start, p.end) };
    const channels = p.layouts.batchNorms.map((b) => b.channels);
    if (localSteps === undefined) {
      const step = this.aggregator.result();
      return { finite: applyStepInPlace(part, step, lr, sgd, channels), totals: totalsOf(step) };
    }
    const round = this.aggregator.roundResult(localSteps);
    return { finite: applyRoundInPlace(part, round, localSteps, channels), totals: totalsOf(round) };
  }

  async stage(jobId: string, version: number, fence: number): Promise<void> {
    const p = this.partition;
    const keys = this.keys.partition(p.index, this.partitions);
    const weights = PartitionedModelCodec.encodeWeightsOf(
      p,
      this.partitions,
      this.memory,
      { version },
      this.weightsMessage,
    );
    const velocity = PartitionedModelCodec.encodeVelocityOf(p, this.memory.velocity, this.velocityMessage);
    await Promise.all([
      this.blobs.set(keys.weightsStaged(jobId, version, fence), weights, STAGED_TTL_SECONDS),
      this.blobs.set(keys.momentumStaged(jobId, version, fence), velocity, STAGED_TTL_SECONDS),
    ]);
  }

  /** Nothing of its own to release: the blob connection is its caller's. */
  async close(): Promise<void> {}
}

function totalsOf({ count, lossSum, correct }: StepTotals): StepTotals {
  return { count, lossSum, correct };
}
