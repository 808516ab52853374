import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { layoutsOf } from '@resnet/model';
import { JobMetrics } from '@resnet/protocol';
import { architectureOf, JobView, ModelTensorCodec } from '@resnet/job';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { initialJobWeights } from '../plan/training-plan';
import { JobRepository, StoredJob } from '../repositories/job.repository';
import { TrainingService } from '../training/training.service';
import { CreateJobDto } from './dto/create-job.dto';
import { JobSpecFactory } from './job-spec.factory';

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly specs: JobSpecFactory,
    private readonly training: TrainingService,
    private readonly checkpoints: CheckpointService,
  ) {}

  async create(dto: CreateJobDto): Promise<JobView> {
    const spec = await this.specs.build(dto);
    const layouts = layoutsOf(architectureOf(spec));
    const weights = initialJobWeights(spec, layouts);
    const id = randomUUID().slice(0, 8);
    const stored = await this.jobs.create(
      id,
      spec,
      ModelTensorCodec.encode(layouts, weights.params, weights.state, { version: 0 }),
      new Float32Array(layouts.params.size),
    );
    this.training.start(id);
    return view(stored);
  }

  async restore(checkpoint: string): Promise<JobView> {
    let id: string;
    try {
      id = await this.checkpoints.restore(checkpoint);
    } catch (err) {
      if (err instanceof HttpException) throw err;
      throw new BadRequestException((err as Error).message);
    }
    this.training.start(id);
    return this.get(id);
  }

  async list(): Promise<JobView[]> {
    return (await this.jobs.list()).map(view);
  }

  async get(id: string): Promise<JobView> {
    return view(await this.stored(id));
  }

  async cancel(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (!['queued', 'running', 'paused'].includes(job.state.status)) {
      throw new ConflictException(
        `job ${id} is ${job.state.status}; only queued, running or paused jobs can be cancelled`,
      );
    }
    await this.training.cancel(id);
    return this.get(id);
  }

  async pause(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (!['queued', 'running'].includes(job.state.status)) {
      throw new ConflictException(
        `job ${id} is ${job.state.status}; only queued or running jobs can be paused`,
      );
    }
    await this.training.pause(id);
    return this.get(id);
  }

  async resume(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (job.state.status !== 'paused') {
      throw new ConflictException(`job ${id} is ${job.state.status}; only paused jobs can be resumed`);
    }
    await this.training.resume(id);
    return this.get(id);
  }

  async metrics(id: string): Promise<JobMetrics> {
    await this.stored(id);
    return this.jobs.metrics(id);
  }

  private async stored(id: string): Promise<StoredJob> {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundException(`no job with id ${id}`);
    return job;
  }
}

function view({ spec, state }: StoredJob): JobView {
  return {
    ...state,
    name: spec.name,
    totalSteps: spec.totalSteps,
    epoch: state.step / spec.stepsPerEpoch,
    progress: state.step / spec.totalSteps,
    spec,
  };
}
