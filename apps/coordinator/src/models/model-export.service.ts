import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { io } from '@tensorflow/tfjs';
import { layoutsOf, LayersModelFiles } from '@resnet/model';
import { architectureOf, partitionedModel, PartitionedModelCodec } from '@resnet/job';
import { JobRepository, StoredJob } from '../repositories/job.repository';
import { layersModelFiles } from './layers-model-export';

/** Tries at reading the latest version while steps keep committing (each commit frees the previous version). */
const LATEST_VERSION_ATTEMPTS = 3;

interface Export {
  readonly jobId: string;
  readonly step: number;
  readonly files: Promise<LayersModelFiles>;
}

/**
 * A job's latest committed weights as a TF.js LayersModel. The last export is kept: a client
 * fetches model.json and then the weights it names (pinned to the same step), and building a
 * large model takes seconds.
 */
@Injectable()
export class ModelExportService {
  private last: Export | null = null;

  constructor(private readonly jobs: JobRepository) {}

  /** model.json, its weights manifest pointing at `weightsPath` (relative to model.json's URL). */
  async modelJson(jobId: string, weightsPath: string): Promise<io.ModelJSON> {
    const { step, files } = await this.latest(jobId);
    const { modelJson } = await files;
    return {
      ...modelJson,
      weightsManifest: modelJson.weightsManifest.map((group) => ({
        ...group,
        paths: [`${weightsPath}?step=${step}`],
      })),
    };
  }

  /** The weights file of `step` (as named by model.json), or of the latest step. */
  async weights(jobId: string, step: number | undefined): Promise<Uint8Array> {
    if (step === undefined) return (await (await this.latest(jobId)).files).weights;
    if (this.last?.jobId === jobId && this.last.step === step) return (await this.last.files).weights;
    const job = await this.stored(jobId);
    if (step !== job.state.step) {
      throw new ConflictException(
        `job ${jobId} has moved on from step ${step} to step ${job.state.step}, and only the latest weights are kept: load the model again`,
      );
    }
    return (await this.exportAt(job)).weights;
  }

  private async latest(jobId: string): Promise<Export> {
    for (let attempt = 1; ; attempt++) {
      const job = await this.stored(jobId);
      const files = this.exportAt(job);
      try {
        await files;
        return { jobId, step: job.state.step, files };
      } catch (err) {
        const now = await this.stored(jobId);
        if (now.state.step === job.state.step || attempt === LATEST_VERSION_ATTEMPTS) throw err;
      }
    }
  }

  private exportAt(job: StoredJob): Promise<LayersModelFiles> {
    const { id, step } = job.state;
    if (this.last?.jobId === id && this.last.step === step) return this.last.files;
    const entry: Export = { jobId: id, step, files: this.build(job) };
    this.last = entry;
    entry.files.catch(() => {
      if (this.last === entry) this.last = null;
    });
    return entry.files;
  }

  private async build({ spec, state }: StoredJob): Promise<LayersModelFiles> {
    const layouts = layoutsOf(architectureOf(spec));
    const { partitions } = partitionedModel(spec, layouts);
    const weights = PartitionedModelCodec.decodeWeights(
      partitions,
      layouts,
      await this.jobs.weights(state.id, spec, state.step),
    );
    return layersModelFiles(state.id, spec, state.step, weights);
  }

  private async stored(jobId: string): Promise<StoredJob> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new NotFoundException(`no job with id ${jobId}`);
    return job;
  }
}
