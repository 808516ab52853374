/** Why a summation service refused a unit, and whether the unit itself was at fault (corrupt, mis-addressed, non-finite). */
export interface UnitRefusal {
  readonly reason: string;
  readonly workersFault: boolean;
}

/** What a worker returns for a shard; a training shard's gradients travel separately as a binary blob. */
export interface ShardOutcome {
  readonly workerId: string;
  readonly lossSum: number;
  readonly correct: number;
  /** Evaluation shards only: samples whose label is among the 5 highest logits. */
  readonly correctTop5?: number;
  /** Samples behind the loss, accuracy and message: with local SGD, over all of the round's batches. */
  readonly count: number;
  readonly computeMs: number;
  /**
   * The worker found its own loss, gradients or batch statistics non-finite and sent none: the
   * training diverged. Non-finite values it did not own up to are treated as a faulty worker.
   */
  readonly nonFinite?: boolean;
  /**
   * Training shards: the Redis key of each partition's message (a gradient or a local-SGD delta),
   * in partition order; one key for an unsplit model. Absent from evaluation shards and from
   * `nonFinite` reports, which send no message.
   */
  readonly gradientKeys?: readonly string[];
  readonly gradientBytes?: number;
  /** A job on summation services: a service refused one of the shard's units (the shard is recomputed whole). */
  readonly refused?: UnitRefusal;
  /** How long the shard waited for its weights version: fetch and decode, or less when prefetched. */
  readonly weightFetchMs?: number;
  /** Encoding and storing the gradient message. */
  readonly uploadMs?: number;
}
