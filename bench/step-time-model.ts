/** One measured configuration: K shards with gradient messages of `mbPerShard` megabytes each. */
export interface StepTimePoint {
  readonly shards: number;
  readonly mbPerShard: number;
  /** Step period minus the simulated compute time. */
  readonly overheadMs: number;
}

/**
 * T(K) = compute + a + d·MB + b·K + c·MB·K, MB being the size of one shard's messages (the model's
 * size): a per step; d per megabyte per step (the optimizer and publishing the weights); b per
 * shard (queue, events, round trips); c per megabyte per shard (each shard moves the weights in,
 * its gradient out, and the coordinator reads that gradient back and folds it).
 */
export interface StepTimeModel {
  readonly fixedMs: number;
  readonly perMbMs: number;
  readonly perShardMs: number;
  readonly perShardMbMs: number;
}

function terms(shards: number, mb: number): number[] {
  return [1, mb, shards, shards * mb];
}

/**
 * Least-squares fit of the model to the points' relative errors (each point weighed by
 * 1/overhead), so that the seconds-long steps of a big model do not drown out the small ones.
 * Points of a single payload size cannot tell a per-megabyte cost from a fixed one: then only
 * T = compute + a + b·K is fitted, and the per-megabyte terms are reported as 0.
 */
export function fitStepTimeModel(points: readonly StepTimePoint[]): StepTimeModel {
  const onePayload = new Set(points.map((p) => p.mbPerShard.toFixed(3))).size === 1;
  const used = onePayload ? [0, 2] : [0, 1, 2, 3];
  const rows = points.map((p) => used.map((i) => terms(p.shards, p.mbPerShard)[i] / p.overheadMs));
  const n = rows[0].length;
  const normal = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => rows.reduce((s, r) => s + r[i] * r[j], 0)),
  );
  // Every weighed target is overhead / overhead = 1.
  const rhs = Array.from({ length: n }, (_, i) => rows.reduce((s, r) => s + r[i], 0));
  const fitted = solve(normal, rhs);
  const [fixedMs, perMbMs, perShardMs, perShardMbMs] = [0, 1, 2, 3].map((i) =>
    used.includes(i) ? fitted[used.indexOf(i)] : 0,
  );
  return { fixedMs, perMbMs, perShardMs, perShardMbMs };
}

export function predictOverheadMs(model: StepTimeModel, shards: number, mbPerShard: number): number {
  const [one, mb, k, kMb] = terms(shards, mbPerShard);
  return model.fixedMs * one + model.perMbMs * mb + model.perShardMs * k + model.perShardMbMs * kMb;
}

/** Gaussian elimination with partial pivoting. */
function solve(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const m = matrix.map((row, i) => [...row, rhs[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) pivot = row;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let row = col + 1; row < n; row++) {
      const f = m[row][col] / m[col][col];
      for (let k = col; k <= n; k++) m[row][k] -= f * m[col][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = m[row][n];
    for (let k = row + 1; k < n; k++) sum -= m[row][k] * x[k];
    x[row] = sum / m[row][row];
  }
  return x;
}

/**
 * What the serial path costs, per unit, for a model of one payload size: the constants of the
 * partitioned step model below, taken from `npm run bench:scale` tables (docs/scaling.md).
 */
export interface SerialCosts {
  /** Per step, whatever K: the enqueue, the commit's script, events, timers. */
  readonly perStepMs: number;
  /** Per shard in the coordinator's main thread (queue, events, round trips): not partitioned. */
  readonly perShardMs: number;
  /** Per shard in Redis for BullMQ's scripts, on the node that holds the queue. */
  readonly redisPerShardMs: number;
  /** Redis CPU per megabyte of one value moved in or out (GET or SET). */
  readonly redisPerMbMs: number;
  /** Aggregator CPU per megabyte of one shard's message: checksum, finiteness check, fold. */
  readonly aggregatePerMbMs: number;
  /** Aggregator CPU per megabyte of the model per step: the mean, SGD, encoding the version. */
  readonly updatePerMbMs: number;
}

/** A deployment to predict: workers, payload, partitions, Redis masters, links and compute. */
export interface PartitionedDeployment {
  readonly shards: number;
  readonly mb: number;
  readonly partitions: number;
  readonly redisNodes: number;
  /** Each machine's link, full duplex. */
  readonly linkGbps: number;
  readonly computeMs: number;
}

/**
 * The step period with P partitions on N Redis masters, every process on a machine of its own
 * (workers, each Redis master, the coordinator with its P aggregator threads on P cores), all
 * shards finishing their compute together. After the compute:
 *  - the control path, serial in the coordinator's main thread and the queue's Redis: fixed + per shard;
 *  - one worker's own transfers, the version in and its gradient out, on its link (all workers at once);
 *  - the busiest Redis master: its CPU for its 1/N of every value (per shard the version read, the
 *    gradient written and read back; per step the version and the momentum staged), or its link
 *    for the values it sends, whichever is longer;
 *  - the aggregators: each its 1/P of every shard's message, then of the update, or the
 *    coordinator's link, which receives every message whole, whichever is longer.
 * A calculation from measured constants, not a measurement.
 */
export function predictPartitionedPeriodMs(c: SerialCosts, d: PartitionedDeployment): number {
  const msPerMb = 8 / d.linkGbps; // 1 Gbit/s moves 1 MB in 8 ms
  const { shards: k, mb, partitions: p, redisNodes: n } = d;
  const control = c.perStepMs + k * (c.perShardMs + c.redisPerShardMs);
  const worker = 2 * mb * msPerMb;
  const redisCpu = (c.redisPerMbMs * (3 * k + 2) * mb) / n;
  const redisLink = (2 * k * mb * msPerMb) / n;
  const aggregators =
    Math.max((c.aggregatePerMbMs * k * mb) / p, k * mb * msPerMb) + (c.updatePerMbMs * mb) / p;
  return d.computeMs + control + worker + Math.max(redisCpu, redisLink) + aggregators;
}

/** Weak-scaling efficiency, as the bench measures it: the period of one shard over the period of K. */
export function predictPartitionedEfficiency(c: SerialCosts, d: PartitionedDeployment): number {
  return predictPartitionedPeriodMs(c, { ...d, shards: 1 }) / predictPartitionedPeriodMs(c, d);
}
