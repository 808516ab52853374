import { SgdSettings } from '@resnet/optimizer';
import { ShardOutcome } from '@resnet/protocol';
import { ExpectedMessage } from '../shard-result.validator';

/** The model a job's loop updates in place: the whole vectors, each partition owning its share. */
export interface ModelMemory {
  readonly params: Float32Array;
  readonly state: Float32Array;
  readonly velocity: Float32Array;
}

/** What a step applies: the learning rate, and with local SGD the round's length. */
export interface PartitionUpdate {
  readonly lr: number;
  readonly sgd: SgdSettings;
  /** Global steps in the round; set only with local SGD, whose shards send weight changes. */
  readonly localSteps?: number;
}

/** What a step's shards add up to: samples, summed loss and correct predictions. */
export interface StepTotals {
  readonly count: number;
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * One partition's share of a step (see ModelPartition): it checks the shards' messages of its
 * partition, folds them in shard order, applies the update to its share of the model, and stages
 * its share of the next version in Redis. A job's loop holds one per partition; with several, each
 * runs in a thread of its own (ThreadedPartitionAggregator), so partitions are checked, folded,
 * updated and encoded side by side.
 */
export interface PartitionAggregation {
  beginStep(): Promise<void>;
  /**
   * Reads and checks a shard's message of this partition, and holds it until fold() or drop().
   * Throws RejectedShardResultError when it must not be used.
   */
  check(
    shard: number,
    key: string | undefined,
    outcome: ShardOutcome,
    expected: ExpectedMessage,
  ): Promise<void>;
  /** Folds the checked message in; false when the shard was already counted. */
  fold(shard: number): Promise<boolean>;
  /** Forgets a checked message: another partition's message of the same shard was refused. */
  drop(shard: number): Promise<void>;
  /** Applies the step's mean to this partition's share of the model; false when that made it non-finite. */
  update(update: PartitionUpdate): Promise<{ finite: boolean; totals: StepTotals }>;
  /** Writes this partition's share of version `version` to its staged keys of coordinator `fence`. */
  stage(jobId: string, version: number, fence: number): Promise<void>;
  close(): Promise<void>;
}
