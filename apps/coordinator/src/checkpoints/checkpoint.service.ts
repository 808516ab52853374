import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { layoutsOf, ModelWeights } from '@resnet/model';
import {
  architectureOf,
  modelPartitions,
  partitionedModel,
  PartitionedModelCodec,
  TrainingJobSpec,
} from '@resnet/job';
import { layersModelFiles } from '../models/layers-model-export';
import { CheckpointStore } from '../repositories/checkpoint.store';
import { JobRepository } from '../repositories/job.repository';

/** Writes jobs' checkpoints to disk and brings jobs back from them into Redis. */
@Injectable()
export class CheckpointService {
  private readonly logger = new Logger(CheckpointService.name);

  constructor(
    private readonly store: CheckpointStore,
    private readonly jobs: JobRepository,
  ) {}

  async save(
    jobId: string,
    spec: TrainingJobSpec,
    step: number,
    weights: ModelWeights,
    velocity: Float32Array,
  ): Promise<void> {
    // Checkpoints hold the model whole, whatever the job's partitions: they restore under any count.
    const whole = modelPartitions(layoutsOf(architectureOf(spec)), 1);
    const [model, metrics] = await Promise.all([
      layersModelFiles(jobId, spec, step, weights),
      this.jobs.metrics(jobId),
    ]);
    const folder = await this.store.save(
      {
        manifest: { jobId, step, spec, createdAt: Date.now() },
        weights: PartitionedModelCodec.encodeWeights(whole, weights, { version: step })[0],
        velocity: PartitionedModelCodec.encodeVelocity(whole, velocity)[0],
        metrics,
      },
      model,
    );
    this.logger.log(`job ${jobId}: checkpoint at step ${step} in ${folder}`);
  }

  /**
   * Recreates a job in Redis from a checkpoint folder (relative to the checkpoint directory), with
   * its spec, step, weights, optimizer state and metrics, ready to resume. Refuses to overwrite a
   * job that Redis still has.
   */
  async restore(relativeFolder: string): Promise<string> {
    const checkpoint = await this.store.load(relativeFolder);
    const { jobId, spec, step } = checkpoint.manifest;
    if (await this.jobs.get(jobId)) {
      throw new ConflictException(
        `job ${jobId} still exists; cancel it or restore on a Redis that does not hold it`,
      );
    }
    const layouts = layoutsOf(architectureOf(spec));
    const whole = modelPartitions(layouts, 1);
    const { partitions } = partitionedModel(spec, layouts);
    await this.jobs.restore(
      jobId,
      spec,
      step,
      PartitionedModelCodec.encodeWeights(
        partitions,
        PartitionedModelCodec.decodeWeights(whole, layouts, [checkpoint.weights]),
        { version: step },
      ),
      PartitionedModelCodec.encodeVelocity(
        partitions,
        PartitionedModelCodec.decodeVelocity(whole, [checkpoint.velocity]),
      ),
      checkpoint.metrics,
    );
    this.logger.log(`job ${jobId} restored from ${relativeFolder} at step ${step}`);
    return jobId;
  }

  /** Jobs that have checkpoints on disk but are gone from Redis (it lost its data): restores each from its latest. */
  async restoreLost(): Promise<string[]> {
    const restored: string[] = [];
    for (const jobId of await this.store.jobIds()) {
      if (await this.jobs.get(jobId)) continue;
      const folder = await this.store.latestFolder(jobId);
      if (!folder) continue;
      const checkpoint = await this.store.load(`${jobId}/${folder.split('/').pop()}`);
      if (checkpoint.manifest.step >= checkpoint.manifest.spec.totalSteps) continue; // finished: nothing to resume
      restored.push(await this.restore(`${jobId}/${folder.split('/').pop()}`));
    }
    return restored;
  }
}
