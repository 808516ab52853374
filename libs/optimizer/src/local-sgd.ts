import { BATCH_NORM_MOMENTUM, updateRunningStats } from './batch-norm-statistics';
import { VectorKernels } from './kernels/vector-kernels';
import { sgdStep, SgdSettings } from './sgd';
import { AggregatedRound, ShardContribution } from './step-aggregator';

interface Weights {
  readonly params: Float32Array;
  readonly state: Float32Array;
}

/**
 * One shard's part of a local-SGD round: SGD steps on the shard's own batches, from the round's
 * weights, each with the shard's mean gradient and the job's SGD settings; then the change to send
 * back, and the batch statistics of the first step (see ShardContribution).
 *
 * Only the first step's batch statistics are kept: they are of the round's weights, the model all
 * shards share, so pooled over the shards they are that model's statistics on a whole global
 * batch, as in a synchronous step. Running statistics of each shard's own drifting model would
 * describe no model that the average is, and averaged they leave the averaged model badly
 * normalised (docs/scaling.md, Local SGD).
 *
 * Momentum starts from zero every round rather than carrying over from the shard's last round:
 * a round's result is then a pure function of (weights, job, round, shard), so a shard that is
 * recomputed (redelivered, rejected, after a restart) gives the same bits, wherever it runs.
 */
export class LocalSgdRound {
  private readonly startParams: Float32Array;
  private readonly current: Weights;
  private readonly velocity: Float32Array;
  private readonly meanGradient: Float32Array;
  private firstBatchStats: Float32Array | null = null;
  private count = 0;
  private lossSum = 0;
  private correct = 0;

  /** `start` is copied: it may be a view of memory its owner reuses. */
  constructor(
    start: Weights,
    private readonly sgd: SgdSettings,
  ) {
    this.startParams = start.params.slice();
    // The running statistics stay the round's: local steps normalise with their batches' statistics.
    this.current = { params: start.params.slice(), state: start.state.slice() };
    this.velocity = new Float32Array(start.params.length);
    this.meanGradient = new Float32Array(start.params.length);
  }

  /** The shard's weights after the local steps so far (its own memory: copy what must outlive the next step). */
  get weights(): Weights {
    return this.current;
  }

  /** One local step, from the gradient sum and batch statistics of the shard's batch at the current weights. */
  step(batch: ShardContribution, lr: number): void {
    const { gradientSum, count } = batch;
    for (let i = 0; i < gradientSum.length; i++) this.meanGradient[i] = gradientSum[i] / count;
    sgdStep(this.current.params, this.meanGradient, this.velocity, lr, this.sgd);
    this.firstBatchStats ??= batch.batchStats.slice();
    this.count += count;
    this.lossSum += batch.lossSum;
    this.correct += batch.correct;
  }

  /**
   * What the shard sends for the round: its parameter change weighted by its samples, its first
   * step's batch statistics, and its totals.
   */
  result(): ShardContribution {
    if (!this.firstBatchStats) throw new Error('a local-SGD round has no steps');
    const gradientSum = new Float32Array(this.startParams.length);
    for (let i = 0; i < gradientSum.length; i++)
      gradientSum[i] = this.count * (this.startParams[i] - this.current.params[i]);
    return {
      gradientSum,
      batchStats: this.firstBatchStats,
      count: this.count,
      lossSum: this.lossSum,
      correct: this.correct,
    };
  }
}

/**
 * Applies a combined local-SGD round of `steps` global steps to the weights it started from, in
 * place: the parameters less the shards' sample-weighted mean change (the sample-weighted mean of
 * the shards' own parameters), and the running statistics moved toward the round's weights'
 * statistics (pooled over the shards' first batches) as far as `steps` synchronous updates with
 * them would move them. The coordinator's momentum plays no part. Returns whether the weights are
 * still finite.
 */
export function applyRoundInPlace(
  weights: Weights,
  round: AggregatedRound,
  steps: number,
  batchNormChannels: readonly number[],
): boolean {
  for (let i = 0; i < weights.params.length; i++) weights.params[i] -= round.paramsDelta[i];
  const momentum = 1 - (1 - BATCH_NORM_MOMENTUM) ** steps;
  updateRunningStats(weights.state, round.batchStats, batchNormChannels, momentum);
  const kernels = VectorKernels.get();
  return kernels.allFinite(weights.params) && kernels.allFinite(weights.state);
}
