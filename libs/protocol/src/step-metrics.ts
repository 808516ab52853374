/** One record per weights version: per step, or with local SGD per round. */
export interface StepMetrics {
  /** Global steps done: the weights version this step or round produced. */
  readonly step: number;
  readonly epoch: number;
  /** Over the samples of the step, or of all local steps of the round. */
  readonly loss: number;
  readonly accuracy: number;
  /** The rate of the last step applied (with local SGD, of the round's last local step). */
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly stepMs: number;
  /** Wall time from enqueueing the shards until the last result arrived. */
  readonly waitMs: number;
  /** The slowest shard's own compute time. */
  readonly slowestShardMs: number;
  readonly at: number;
  // Where a step's time goes, for benchmarks and dashboards (absent in metrics of older versions).
  /** Putting the step's shards on the queue. */
  readonly enqueueMs?: number;
  /** Longest wait of a shard for its weights version (worker-reported). */
  readonly weightFetchMs?: number;
  /** Longest gradient encode and store of a shard (worker-reported). */
  readonly uploadMs?: number;
  /** From the step's start until the last shard's result arrived; waitMs minus this is aggregation left after it. */
  readonly lastArrivalMs?: number;
  /** Coordinator time checking and folding gradient messages (after reading them), summed over the shards. */
  readonly aggregateMs?: number;
  /** Averaging the folded gradients, the SGD update and its finiteness checks. */
  readonly optimizerMs?: number;
  /**
   * Encoding and committing the weights version this step computed against, i.e. the previous
   * step's publication: a commit cannot record its own duration in the record it commits.
   */
  readonly publishMs?: number;
  /** Bytes of gradient messages the step used. */
  readonly gradientBytes?: number;
}
