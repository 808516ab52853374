/** A shard could not be computed: its BullMQ job failed every attempt, or its results kept being rejected. */
export class ShardFailedError extends Error {
  override readonly name = 'ShardFailedError';
}

/** A shard result that must not be used (corrupt message, wrong size, non-finite values); the shard is recomputed. */
export class RejectedShardResultError extends Error {
  override readonly name = 'RejectedShardResultError';

  /**
   * `countsAgainstShard`: false when the result was refused for who sent it, not for what it holds.
   * `blamesWorker`: false when any honest worker would have sent the same (a diverged loss).
   */
  constructor(
    message: string,
    readonly blame: { readonly countsAgainstShard: boolean; readonly blamesWorker: boolean } = {
      countsAgainstShard: true,
      blamesWorker: true,
    },
  ) {
    super(message);
  }
}

/** The loss or the weights stopped being finite: the job stops rather than write NaN weights. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
}
