import { updateRunningStats } from './batch-norm-statistics';
import { VectorKernels } from './kernels/vector-kernels';
import { sgdStep, SgdSettings } from './sgd';
import { AggregatedRound, ShardContribution } from './step-aggregator';

interface Weights {
  readonly params: Float32Array;
  readonly state: Float32Array;
}

/**
 * One shard's part of a local-SGD round: SGD steps on the shard's own batches, from the round's
 * weights, each with the shard's mean gradient and the job's SGD settings, each moving the
 * shard's own running statistics; then the change to send back (see ShardContribution).
 *
 * Momentum starts from zero every round rather than carrying over from the shard's last round:
 * a round's result is then a pure function of (weights, job, round, shard), so a shard that is
 * recomputed (redelivered, rejected, after a restart) gives the same bits, wherever it runs.
 */
export class LocalSgdRound {
  private readonly start: Weights;
  private readonly current: Weights;
  private readonly velocity: Float32Array;
  private readonly meanGradient: Float32Array;
  private count = 0;
  private lossSum = 0;
  private correct = 0;

  /** `start` is copied: it may be a view of memory its owner reuses. */
  constructor(
    start: Weights,
    private readonly sgd: SgdSettings,
    private readonly batchNormChannels: readonly number[],
  ) {
    this.start = { params: start.params.slice(), state: start.state.slice() };
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
    updateRunningStats(this.current.state, { count, stats: batch.batchStats }, this.batchNormChannels);
    this.count += count;
    this.lossSum += batch.lossSum;
    this.correct += batch.correct;
  }

  /** What the shard sends for the round: its changes, the parameters' weighted by its samples, and its totals. */
  result(): ShardContribution {
    const gradientSum = new Float32Array(this.start.params.length);
    for (let i = 0; i < gradientSum.length; i++)
      gradientSum[i] = this.count * (this.start.params[i] - this.current.params[i]);
    const batchStats = new Float32Array(this.start.state.length);
    for (let i = 0; i < batchStats.length; i++) batchStats[i] = this.start.state[i] - this.current.state[i];
    return { gradientSum, batchStats, count: this.count, lossSum: this.lossSum, correct: this.correct };
  }
}

/**
 * Applies a combined local-SGD round to the weights it started from, in place: each part less the
 * shards' sample-weighted mean change, i.e. the sample-weighted mean of the shards' own weights and
 * running statistics. The coordinator's momentum plays no part. Returns whether the weights are
 * still finite.
 */
export function applyRoundInPlace(weights: Weights, round: AggregatedRound): boolean {
  for (let i = 0; i < weights.params.length; i++) weights.params[i] -= round.paramsDelta[i];
  for (let i = 0; i < weights.state.length; i++) weights.state[i] -= round.stateDelta[i];
  const kernels = VectorKernels.get();
  return kernels.allFinite(weights.params) && kernels.allFinite(weights.state);
}
