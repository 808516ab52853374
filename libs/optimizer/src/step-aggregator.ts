import { poolBatchStats, ShardBatchStats, updateRunningStats } from './batch-norm-statistics';
import { VectorKernels } from './kernels/vector-kernels';
import { sgdStep, SgdSettings } from './sgd';

/**
 * One shard's result: of a synchronous step, or of a local-SGD round (see LocalSgdRound), whose
 * message has the same two parts in the same layouts.
 */
export interface ShardContribution {
  /**
   * Sum over the shard's samples of the loss gradient, in the parameter layout. Of a round: the
   * shard's parameter change (round's weights − its own) times its sample count.
   */
  readonly gradientSum: Float32Array;
  /**
   * The shard's batch-norm batch statistics, in the state layout. Of a round: those of its first
   * local step, i.e. of the round's weights.
   */
  readonly batchStats: Float32Array;
  /** Samples behind the sums; of a round, over all of its local steps. */
  readonly count: number;
  readonly lossSum: number;
  readonly correct: number;
}

export interface AggregatedStep {
  /** Mean gradient over the global batch. */
  readonly gradient: Float32Array;
  readonly batchStats: ShardBatchStats;
  readonly count: number;
  readonly lossSum: number;
  readonly correct: number;
}

/** A local-SGD round's shards combined: what the round takes off the weights it started from. */
export interface AggregatedRound {
  /** The shards' parameter changes, weighted by their sample counts. */
  readonly paramsDelta: Float32Array;
  /** The round's weights' batch statistics on one global batch: the shards' first steps', pooled. */
  readonly batchStats: ShardBatchStats;
  readonly count: number;
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * Collects the shards of one synchronous step (or local-SGD round) and folds them into a running
 * sum as they arrive, always in shard-index order (a shard that arrives early waits for its
 * predecessors), so the result is bitwise the same whichever worker finishes first. With a fold
 * group g, shards are summed in order within fixed groups of g consecutive shards, then the groups
 * in order: a machine holding a whole group may sum it before the network. g = 1 and g =
 * shardsPerStep both give exactly the plain order (0 + x = x). A second result for a shard that is
 * already counted is refused. `reset` starts the next step in the same memory: for a big model the
 * sum is hundreds of megabytes, which fresh every step would cost page faults and garbage
 * collections.
 */
export class StepAggregator {
  private readonly sum: Float64Array;
  /** The current group's running sum; only for groups strictly between 1 and shardsPerStep. */
  private readonly groupSum: Float64Array | null;
  private readonly pending = new Map<number, ShardContribution>();
  private readonly folded: ShardContribution[] = [];
  private mean: Float32Array | null = null;

  constructor(
    paramSize: number,
    private readonly shardsPerStep: number,
    private readonly batchNormChannels: readonly number[],
    private readonly foldGroup = shardsPerStep,
  ) {
    if (!Number.isInteger(foldGroup) || foldGroup < 1 || foldGroup > shardsPerStep)
      throw new RangeError(`fold group ${foldGroup} is not one of 1..${shardsPerStep}`);
    this.sum = VectorKernels.float64Vector(paramSize);
    this.groupSum =
      foldGroup > 1 && foldGroup < shardsPerStep ? VectorKernels.float64Vector(paramSize) : null;
  }

  /** Returns false when this shard was already received. */
  add(shard: number, contribution: ShardContribution): boolean {
    if (shard < 0 || shard >= this.shardsPerStep)
      throw new RangeError(`shard ${shard} out of 0..${this.shardsPerStep - 1}`);
    if (shard < this.folded.length || this.pending.has(shard)) return false;
    if (contribution.gradientSum.length !== this.sum.length) {
      throw new RangeError(
        `shard ${shard} gradient has ${contribution.gradientSum.length} values, expected ${this.sum.length}`,
      );
    }
    this.pending.set(shard, contribution);
    for (let next = this.pending.get(this.folded.length); next; next = this.pending.get(this.folded.length)) {
      this.pending.delete(this.folded.length);
      this.foldIn(this.folded.length, next.gradientSum);
      // Only the small per-shard numbers are kept; the gradient buffer can be freed.
      this.folded.push({ ...next, gradientSum: new Float32Array(0) });
    }
    return true;
  }

  /** Adds shard `shard`'s gradient, the next in order, to its group and a whole group to the sum. */
  private foldIn(shard: number, gradient: Float32Array): void {
    if (!this.groupSum) {
      VectorKernels.get().addInto(this.sum, gradient);
      return;
    }
    VectorKernels.get().addInto(this.groupSum, gradient);
    if ((shard + 1) % this.foldGroup !== 0 && shard + 1 !== this.shardsPerStep) return;
    // A float64 vector onto another: no kernel for it, and groups are rare next to shards.
    for (let i = 0; i < this.sum.length; i++) this.sum[i] += this.groupSum[i];
    this.groupSum.fill(0);
  }

  /** Forgets the step, to aggregate the next one; the previous result's gradient is overwritten by the next result. */
  reset(): void {
    this.sum.fill(0);
    this.groupSum?.fill(0);
    this.pending.clear();
    this.folded.length = 0;
  }

  has(shard: number): boolean {
    return shard < this.folded.length || this.pending.has(shard);
  }

  get received(): number {
    return this.folded.length + this.pending.size;
  }

  get complete(): boolean {
    return this.folded.length === this.shardsPerStep;
  }

  result(): AggregatedStep {
    const { mean, ...totals } = this.totals();
    return {
      gradient: mean,
      batchStats: poolBatchStats(this.shardStats(), this.batchNormChannels),
      ...totals,
    };
  }

  /** The result of a local-SGD round of `steps` global steps, whose shards sent changes (see ShardContribution). */
  roundResult(steps: number): AggregatedRound {
    const { mean, ...totals } = this.totals();
    // Each shard's count covers all its local batches, of equal size: a batch is count / steps.
    const pooled = poolBatchStats(this.shardStats(), this.batchNormChannels);
    return { paramsDelta: mean, batchStats: { ...pooled, count: pooled.count / steps }, ...totals };
  }

  /** The folded sum divided by the sample count, written into the same array every step, and the shards' totals. */
  private totals(): { mean: Float32Array; count: number; lossSum: number; correct: number } {
    if (!this.complete) throw new Error(`step has ${this.received} of ${this.shardsPerStep} shards`);
    const count = this.folded.reduce((n, s) => n + s.count, 0);
    const mean = (this.mean ??= new Float32Array(this.sum.length));
    VectorKernels.get().divideInto(mean, this.sum, count);
    return {
      mean,
      count,
      lossSum: this.folded.reduce((n, s) => n + s.lossSum, 0),
      correct: this.folded.reduce((n, s) => n + s.correct, 0),
    };
  }

  private shardStats(): ShardBatchStats[] {
    return this.folded.map((s) => ({ count: s.count, stats: s.batchStats }));
  }
}

/** Applies an aggregated step to copies of the weights and momentum: SGD on the parameters, running-statistics update on the state. */
export function applyStep(
  weights: { params: Float32Array; state: Float32Array },
  velocity: Float32Array,
  step: AggregatedStep,
  lr: number,
  sgd: SgdSettings,
  batchNormChannels: readonly number[],
): { params: Float32Array; state: Float32Array; velocity: Float32Array } {
  const next = {
    params: Float32Array.from(weights.params),
    state: Float32Array.from(weights.state),
    velocity: Float32Array.from(velocity),
  };
  applyStepInPlace(next, step, lr, sgd, batchNormChannels);
  return next;
}

/**
 * applyStep without the copies, for a loop that keeps no earlier version in memory. Returns
 * whether the model is still finite: weights, momentum and running statistics.
 */
export function applyStepInPlace(
  model: { params: Float32Array; state: Float32Array; velocity: Float32Array },
  step: AggregatedStep,
  lr: number,
  sgd: SgdSettings,
  batchNormChannels: readonly number[],
): boolean {
  const finite = sgdStep(model.params, step.gradient, model.velocity, lr, sgd);
  updateRunningStats(model.state, step.batchStats, batchNormChannels);
  return finite && VectorKernels.get().allFinite(model.state);
}
