import { openDatasetSplits, DatasetSplits, shardBatch, evalBatch, largestShardSize } from '@resnet/data';
import { ShardTrainer } from '@resnet/engine';
import { ModelWeights } from '@resnet/model';
import {
  LocalSgdRound,
  lrAt,
  populationStats,
  ShardBatchStats,
  ShardContribution,
  VectorKernels,
} from '@resnet/optimizer';
import { ShardOutcome, ShardTask, weightsVersionOf } from '@resnet/protocol';
import {
  architectureOf,
  PartitionedModel,
  partitionedModel,
  precisionOf,
  roundSteps,
  scheduleOf,
  TrainingJobSpec,
  usesLocalSgd,
} from '@resnet/job';
import { GradientUploader } from './gradient-uploader';
import { ServiceRoutes, serviceRoutesOf } from './service-units';
import { WeightsPrefetcher } from './weights-prefetcher';
import { WorkerRepository } from './worker.repository';

/** Training images whose batch statistics an evaluation normalises with (see reestimateStatistics). */
const STATISTICS_IMAGES = 1024;

/** What the worker's queue loop hands each shard task to. */
export interface ShardHandler {
  process(task: ShardTask): Promise<ShardOutcome>;
}

function allFinite(result: ShardContribution): boolean {
  const kernels = VectorKernels.get();
  return (
    Number.isFinite(result.lossSum) &&
    kernels.allFinite(result.gradientSum) &&
    kernels.allFinite(result.batchStats)
  );
}

interface LoadedJob {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  readonly trainer: ShardTrainer;
  readonly model: PartitionedModel;
  readonly data: DatasetSplits;
  /** The weights version the trainer holds; -1 once it holds a local-SGD round's own weights. */
  version: number;
  /** The version whose batch-norm statistics the trainer holds re-estimated for evaluation; -1: none. */
  statisticsVersion: number;
}

/**
 * Turns a shard task into a shard outcome: loads the job's spec, data and weights version (each
 * cached, since consecutive shards usually share them), runs the model (with local SGD, for each
 * of the round's steps), and stores the gradient (or delta) message where the coordinator will
 * read it.
 */
export class ShardProcessor implements ShardHandler {
  private loaded: LoadedJob | null = null;
  private readonly datasets = new Map<string, Promise<DatasetSplits>>();

  constructor(
    private readonly repo: WorkerRepository,
    private readonly weights: WeightsPrefetcher,
    private readonly uploader: GradientUploader,
    private readonly dataRoot: string,
    private readonly workerId: string,
  ) {}

  async process(task: ShardTask): Promise<ShardOutcome> {
    const routes = serviceRoutesOf(task);
    const { job, weights, weightFetchMs } = await this.jobAt(task.jobId, weightsVersionOf(task), routes);
    const started = performance.now();
    if (task.kind === 'eval') {
      await this.reestimateStatistics(job, weights, task.version);
      const batch = await evalBatch(job.data.test, task.start, task.end, job.spec.normalization);
      // No larger than a training shard: evaluation then needs no more memory than training.
      const result = await job.trainer.evaluate(batch, largestShardSize(job.spec));
      return { workerId: this.workerId, ...result, computeMs: performance.now() - started, weightFetchMs };
    }
    const result = usesLocalSgd(job.spec)
      ? await this.localRound(job, task, weights)
      : await job.trainer.trainShard(await shardBatch(job.data.train, job.spec, task.step, task.shard));
    const outcome = {
      workerId: this.workerId,
      lossSum: result.lossSum,
      correct: result.correct,
      count: result.count,
      computeMs: performance.now() - started,
    };
    // Say so rather than send numbers the coordinator would blame on this worker.
    if (!allFinite(result)) return { ...outcome, nonFinite: true };
    const uploaded = await this.uploader.upload(
      task,
      job.spec,
      job.model,
      result.gradientSum,
      result.batchStats,
      outcome,
    );
    return { ...outcome, weightFetchMs, ...uploaded };
  }

  /**
   * Evaluation normalises with batch-norm statistics measured with the evaluated weights, over the
   * first training batches of epoch 0 (as trained: augmented), not with the running averages: those
   * mix statistics of many earlier weights, and early in a run, while the weights change fast, they
   * are far from the current ones (the default synthetic job's first evaluation, after 32 steps:
   * test loss 148 and 10% accuracy in PyTorch with the same recipe, where train accuracy is 54%).
   * Every worker computes the same statistics from the same batches, once per version; the weights
   * themselves (checkpoints, the exported model) keep the running averages.
   */
  private async reestimateStatistics(job: LoadedJob, weights: ModelWeights, version: number): Promise<void> {
    if (job.statisticsVersion === version) return;
    const { spec, trainer } = job;
    const steps = Math.min(spec.stepsPerEpoch, Math.ceil(STATISTICS_IMAGES / spec.batchSize));
    const batches: ShardBatchStats[] = [];
    for (let step = 0; step < steps; step++) {
      for (let shard = 0; shard < spec.shardsPerStep; shard++) {
        const batch = await shardBatch(job.data.train, spec, step, shard);
        batches.push({ count: batch.count, stats: await trainer.batchStatistics(batch) });
      }
    }
    const state = populationStats(
      batches,
      trainer.layouts.batchNorms.map((b) => b.channels),
    );
    trainer.setWeights({ params: weights.params.slice(), state });
    job.statisticsVersion = version;
  }

  /**
   * One shard's part of a local-SGD round: its samples of each of the round's global steps, in
   * order, each step on the weights the one before left. A step's non-finite result ends the
   * round, to be reported as such.
   */
  private async localRound(
    job: LoadedJob,
    task: Extract<ShardTask, { kind: 'train' }>,
    start: ModelWeights,
  ): Promise<ShardContribution> {
    const { spec, trainer } = job;
    const round = new LocalSgdRound(start, spec.optimizer);
    const schedule = scheduleOf(spec);
    for (let local = 0; local < roundSteps(spec, task.step); local++) {
      if (local > 0) {
        job.version = -1;
        // Copies, as for versions: the backend may keep the arrays, and the round changes them in place.
        trainer.setWeights({ params: round.weights.params.slice(), state: round.weights.state.slice() });
      }
      const step = task.step + local;
      const result = await trainer.trainShard(await shardBatch(job.data.train, spec, step, task.shard));
      if (!allFinite(result)) return result;
      round.step(result, lrAt(schedule, step));
    }
    return round.result();
  }

  private async jobAt(
    jobId: string,
    version: number,
    routes: ServiceRoutes | undefined,
  ): Promise<{ job: LoadedJob; weights: ModelWeights; weightFetchMs: number }> {
    if (this.loaded?.jobId !== jobId) {
      this.loaded?.trainer.dispose();
      this.loaded = null;
      const spec = await this.repo.jobSpec(jobId);
      const trainer = new ShardTrainer(architectureOf(spec), precisionOf(spec));
      this.loaded = {
        jobId,
        spec,
        trainer,
        model: partitionedModel(spec, trainer.layouts),
        data: await this.dataset(spec),
        version: -1,
        statisticsVersion: -1,
      };
    }
    const job = this.loaded;
    const { weights, waitedMs } = await this.weights.get(jobId, version, job.model, routes);
    if (job.version !== version) {
      // Copies: a backend may keep the arrays it is given, and the prefetcher reuses their memory.
      job.trainer.setWeights({ params: weights.params.slice(), state: weights.state.slice() });
      job.version = version;
      job.statisticsVersion = -1;
    }
    return { job, weights, weightFetchMs: waitedMs };
  }

  private dataset(spec: TrainingJobSpec): Promise<DatasetSplits> {
    const key = JSON.stringify(spec.dataset);
    let splits = this.datasets.get(key);
    if (!splits) {
      splits = openDatasetSplits(spec.dataset, this.dataRoot);
      this.datasets.set(key, splits);
      splits.catch(() => this.datasets.delete(key));
    }
    return splits;
  }
}
