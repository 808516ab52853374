import { setTimeout as sleep } from 'node:timers/promises';
import { shardRange } from '@resnet/data';
import { layoutsOf } from '@resnet/model';
import { ShardOutcome, ShardTask, weightsVersionOf } from '@resnet/protocol';
import { architectureOf, PartitionedModel, partitionedModel, roundSteps, TrainingJobSpec } from '@resnet/job';
import { GradientUploader } from './gradient-uploader';
import { serviceRoutesOf } from './service-units';
import { ShardHandler } from './shard-processor';
import { WeightsPrefetcher } from './weights-prefetcher';
import { WorkerRepository } from './worker.repository';

/**
 * Mean gradient the simulated shards report (with local SGD, their mean parameter change): small,
 * so that the weights stay finite over long runs.
 */
const SIMULATED_MEAN_GRADIENT = 1e-4;

interface SimulatedJob {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  readonly model: PartitionedModel;
  /** The gradient sum of a shard of `samples` samples, refilled when a shard of another size comes. */
  readonly gradientSum: Float32Array;
  samples: number;
  /** Batch statistics of mean 0 and variance 1, the same for every shard. */
  readonly batchStats: Float32Array;
}

/**
 * A worker for benchmarking coordination (`--simulate-compute-ms`): it does a real worker's I/O,
 * fetching and decoding the weights version and storing a gradient message of the model's real
 * size in the job's encoding, but sleeps a fixed time instead of running the model, so that many
 * workers fit on a few cores and the coordinator, the queue and Redis are what is measured. A
 * local-SGD round sleeps that time for each of its steps and sends a delta message.
 */
export class SimulatedShardProcessor implements ShardHandler {
  private job: SimulatedJob | null = null;

  constructor(
    private readonly repo: WorkerRepository,
    private readonly weights: WeightsPrefetcher,
    private readonly uploader: GradientUploader,
    private readonly workerId: string,
    private readonly computeMs: number,
  ) {}

  async process(task: ShardTask): Promise<ShardOutcome> {
    const job = await this.jobOf(task.jobId);
    const routes = serviceRoutesOf(task);
    const { waitedMs: weightFetchMs } = await this.weights.get(
      task.jobId,
      weightsVersionOf(task),
      job.model,
      routes,
    );
    const { spec } = job;
    const steps = task.kind === 'train' ? roundSteps(spec, task.step) : 1;
    const started = performance.now();
    await sleep(this.computeMs * steps);
    const computeMs = performance.now() - started;
    const samples =
      task.kind === 'eval'
        ? { start: task.start, end: task.end }
        : shardRange(
            {
              datasetSize: spec.trainSize,
              batchSize: spec.batchSize,
              shardsPerStep: spec.shardsPerStep,
              seed: spec.seed,
            },
            task.shard,
          );
    const count = (samples.end - samples.start) * steps;
    // Chance-level loss and accuracy: plausible numbers for dashboards, never a divergence.
    const lossSum = count * Math.log(spec.numClasses);
    const results = {
      workerId: this.workerId,
      lossSum,
      correct: Math.floor(count / spec.numClasses),
      count,
      computeMs,
      weightFetchMs,
    };
    if (task.kind === 'eval') return { ...results, correctTop5: count };
    if (job.samples !== count) {
      job.gradientSum.fill(SIMULATED_MEAN_GRADIENT * count);
      job.samples = count;
    }
    return {
      ...results,
      ...(await this.uploader.upload(task, spec, job.model, job.gradientSum, job.batchStats, results)),
    };
  }

  private async jobOf(jobId: string): Promise<SimulatedJob> {
    if (this.job?.jobId === jobId) return this.job;
    const spec = await this.repo.jobSpec(jobId);
    const layouts = layoutsOf(architectureOf(spec));
    const batchStats = new Float32Array(layouts.state.size);
    for (const t of layouts.state.tensors)
      batchStats.fill(t.init === 'ones' ? 1 : 0, t.offset, t.offset + t.size);
    this.job = {
      jobId,
      spec,
      model: partitionedModel(spec, layouts),
      gradientSum: new Float32Array(layouts.params.size),
      samples: 0,
      batchStats,
    };
    return this.job;
  }
}
