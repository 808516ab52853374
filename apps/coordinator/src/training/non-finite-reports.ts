import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';

/**
 * Shards of a step whose worker reported non-finite numbers. The first report has the shard
 * recomputed (not held against the worker); a second for the same shard means the numbers really
 * overflow: the training diverged.
 */
export class NonFiniteReports {
  private readonly shards = new Set<number>();

  /** Throws RejectedShardResultError the first time, TrainingDivergedError the second. */
  refuse(step: number, shard: number, lr: number): never {
    if (this.shards.has(shard)) {
      throw new TrainingDivergedError(
        `training diverged at step ${step}: shard ${shard} gives non-finite loss or gradients; lower the learning rate (now ${lr})`,
      );
    }
    this.shards.add(shard);
    throw new RejectedShardResultError('the worker reports non-finite loss or gradients', {
      countsAgainstShard: false,
      blamesWorker: false,
    });
  }
}
