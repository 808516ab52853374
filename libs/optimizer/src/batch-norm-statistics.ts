/** PyTorch's BatchNorm2d momentum: running = (1 - m)·running + m·batch. */
export const BATCH_NORM_MOMENTUM = 0.1;

export interface ShardBatchStats {
  readonly count: number;
  /** Per batch-norm layer, its channels' means then its channels' biased variances (the state layout). */
  readonly stats: Float32Array;
}

/**
 * Pools per-shard batch statistics into the statistics of the whole global batch (exact: pooled
 * mean, and pooled variance = mean of within-shard variances + variance of shard means), given the
 * state layout's channel counts per batch norm.
 */
export function poolBatchStats(
  shards: readonly ShardBatchStats[],
  channels: readonly number[],
): ShardBatchStats {
  const total = shards.reduce((n, s) => n + s.count, 0);
  const pooled = new Float32Array(shards[0].stats.length);
  let offset = 0;
  for (const c of channels) {
    for (let k = 0; k < c; k++) {
      let mean = 0;
      for (const s of shards) mean += (s.count / total) * s.stats[offset + k];
      let variance = 0;
      for (const s of shards) {
        const d = s.stats[offset + k] - mean;
        variance += (s.count / total) * (s.stats[offset + c + k] + d * d);
      }
      pooled[offset + k] = mean;
      pooled[offset + c + k] = variance;
    }
    offset += 2 * c;
  }
  return { count: total, stats: pooled };
}

/** Moves running statistics toward a batch's, with the unbiased variance as PyTorch does. */
export function updateRunningStats(
  running: Float32Array,
  batch: ShardBatchStats,
  channels: readonly number[],
  momentum = BATCH_NORM_MOMENTUM,
): void {
  const unbias = batch.count > 1 ? batch.count / (batch.count - 1) : 1;
  let offset = 0;
  for (const c of channels) {
    for (let k = 0; k < c; k++) {
      const m = offset + k;
      const v = offset + c + k;
      running[m] = (1 - momentum) * running[m] + momentum * batch.stats[m];
      running[v] = (1 - momentum) * running[v] + momentum * batch.stats[v] * unbias;
    }
    offset += 2 * c;
  }
}

/**
 * Running statistics that are the population's over `batches`, all computed with the same weights:
 * the pooled mean and the unbiased pooled variance (PyTorch's BatchNorm with momentum=None, reset,
 * over these batches; "precise BN").
 */
export function populationStats(
  batches: readonly ShardBatchStats[],
  channels: readonly number[],
): Float32Array {
  const running = new Float32Array(batches[0].stats.length);
  updateRunningStats(running, poolBatchStats(batches, channels), channels, 1);
  return running;
}
