import { openDatasetSplits, DatasetSplits, shardBatch, evalBatch } from '@resnet/data';
import { ShardGradient, ShardTrainer } from '@resnet/engine';
import { architectureFor } from '@resnet/model';
import { ModelTensorCodec, RedisKeys, ShardOutcome, ShardTask, TrainingJobSpec } from '@resnet/protocol';
import { WorkerRepository } from './worker.repository';

const GRADIENT_TTL_SECONDS = 3600;

function allFinite(result: ShardGradient): boolean {
  return (
    Number.isFinite(result.lossSum) &&
    result.gradientSum.every(Number.isFinite) &&
    result.batchStats.every(Number.isFinite)
  );
}

interface LoadedJob {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  readonly trainer: ShardTrainer;
  readonly data: DatasetSplits;
  version: number;
}

/**
 * Turns a shard task into a shard outcome: loads the job's spec, data and weights version (each
 * cached, since consecutive shards usually share them), runs the model, and stores the gradient
 * message where the coordinator will read it.
 */
export class ShardProcessor {
  private loaded: LoadedJob | null = null;
  private readonly datasets = new Map<string, Promise<DatasetSplits>>();

  constructor(
    private readonly repo: WorkerRepository,
    private readonly keys: RedisKeys,
    private readonly dataRoot: string,
    private readonly workerId: string,
  ) {}

  async process(task: ShardTask): Promise<ShardOutcome> {
    const job = await this.jobAt(task.jobId, task.version);
    const started = performance.now();
    if (task.kind === 'eval') {
      const batch = await evalBatch(job.data.test, task.start, task.end, job.spec.normalization);
      const result = await job.trainer.evaluate(batch);
      return { workerId: this.workerId, ...result, computeMs: performance.now() - started };
    }
    const batch = await shardBatch(job.data.train, job.spec, task.step, task.shard);
    const result = await job.trainer.trainShard(batch);
    if (!allFinite(result)) {
      // Say so rather than send numbers the coordinator would blame on this worker.
      const computeMs = performance.now() - started;
      return { workerId: this.workerId, lossSum: result.lossSum, correct: result.correct, count: result.count, computeMs, nonFinite: true };
    }
    const message = ModelTensorCodec.encode(job.trainer.layouts, result.gradientSum, result.batchStats, {
      jobId: task.jobId,
      step: task.step,
      shard: task.shard,
    });
    const gradientKey = this.keys.gradient(task.jobId, task.step, task.shard);
    await this.repo.putGradient(gradientKey, message, GRADIENT_TTL_SECONDS);
    return {
      workerId: this.workerId,
      lossSum: result.lossSum,
      correct: result.correct,
      count: result.count,
      computeMs: performance.now() - started,
      gradientKey,
      gradientBytes: message.length,
    };
  }

  private async jobAt(jobId: string, version: number): Promise<LoadedJob> {
    if (this.loaded?.jobId !== jobId) {
      this.loaded?.trainer.dispose();
      this.loaded = null;
      const spec = await this.repo.jobSpec(jobId);
      const arch = architectureFor(spec.model, { numClasses: spec.numClasses, shortcut: spec.shortcut });
      this.loaded = { jobId, spec, trainer: new ShardTrainer(arch), data: await this.dataset(spec), version: -1 };
    }
    if (this.loaded.version !== version) {
      const weights = ModelTensorCodec.decode(this.loaded.trainer.layouts, await this.repo.weights(jobId, version));
      this.loaded.trainer.setWeights(weights);
      this.loaded.version = version;
    }
    return this.loaded;
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
