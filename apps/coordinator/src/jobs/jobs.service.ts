import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { layoutsOf } from '@resnet/model';
import { JobMetrics } from '@resnet/protocol';
import { architectureOf, JobView, partitionedModel, PartitionedModelCodec, precisionOf } from '@resnet/job';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { initialJobWeights } from '../plan/training-plan';
import { JobRepository, StoredJob } from '../repositories/job.repository';
import { queuePositions } from '../training/job-queue';
import { logJobEvent } from '../training/job-lifecycle';
import { TrainingService } from '../training/training.service';
import { WorkersService } from '../workers/workers.service';
import { CreateJobDto } from './dto/create-job.dto';
import { JOB_DEFAULTS } from './job-defaults';
import { JobSpecFactory } from './job-spec.factory';

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly specs: JobSpecFactory,
    private readonly training: TrainingService,
    private readonly checkpoints: CheckpointService,
    private readonly workers: WorkersService,
  ) {}

  async create(dto: CreateJobDto): Promise<JobView> {
    const spec = await this.specs.build(dto);
    const layouts = layoutsOf(architectureOf(spec));
    const { partitions } = partitionedModel(spec, layouts);
    const id = randomUUID().slice(0, 8);
    await this.jobs.create(
      id,
      spec,
      PartitionedModelCodec.encodeWeights(partitions, initialJobWeights(spec, layouts), { version: 0 }),
      PartitionedModelCodec.encodeVelocity(partitions, new Float32Array(layouts.params.size)),
      { priority: dto.priority ?? JOB_DEFAULTS.priority, weight: dto.weight ?? JOB_DEFAULTS.weight },
    );
    logJobEvent(this.logger, 'submitted', { id, name: spec.name }, `${spec.totalSteps} steps`);
    await this.training.schedule();
    return this.get(id);
  }

  async restore(checkpoint: string): Promise<JobView> {
    let id: string;
    try {
      id = await this.checkpoints.restore(checkpoint);
    } catch (err) {
      if (err instanceof HttpException) throw err;
      throw new BadRequestException((err as Error).message);
    }
    // Through the queue like any other job, so that MAX_CONCURRENT_JOBS holds.
    const { spec } = await this.stored(id);
    await this.training.resume({ id, name: spec.name }, `restored from checkpoint ${checkpoint}`);
    return this.get(id);
  }

  async list(): Promise<JobView[]> {
    const [jobs, workersUnavailable] = await Promise.all([this.jobs.list(), this.workers.unavailability()]);
    const positions = queuePositions(jobs);
    return jobs.map((job) =>
      view(job, workersUnavailable[precisionOf(job.spec)], positions.get(job.state.id)),
    );
  }

  async get(id: string): Promise<JobView> {
    const [job, unavailability] = await Promise.all([this.stored(id), this.workers.unavailability()]);
    const workersUnavailable = unavailability[precisionOf(job.spec)];
    if (job.state.status !== 'queued') return view(job, workersUnavailable);
    return view(job, workersUnavailable, queuePositions(await this.jobs.list()).get(id));
  }

  async cancel(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (!['queued', 'running', 'paused'].includes(job.state.status)) {
      throw new ConflictException(
        `job ${id} is ${job.state.status}; only queued, running or paused jobs can be cancelled`,
      );
    }
    await this.training.cancel({ id, name: job.spec.name });
    return this.get(id);
  }

  async pause(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (!['queued', 'running'].includes(job.state.status)) {
      throw new ConflictException(
        `job ${id} is ${job.state.status}; only queued or running jobs can be paused`,
      );
    }
    await this.training.pause({ id, name: job.spec.name });
    return this.get(id);
  }

  /** Continues a paused job, or retries a failed one, from its last committed step. */
  async resume(id: string): Promise<JobView> {
    const job = await this.stored(id);
    if (job.state.status !== 'paused' && job.state.status !== 'failed') {
      throw new ConflictException(
        `job ${id} is ${job.state.status}; only paused or failed jobs can be resumed`,
      );
    }
    await this.training.resume({ id, name: job.spec.name });
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

function view(
  { spec, state }: StoredJob,
  workersUnavailable: string | null = null,
  queuePosition?: number,
): JobView {
  const waitsForWorkers = state.status === 'queued' || state.status === 'running';
  return {
    ...state,
    ...(queuePosition === undefined ? {} : { queuePosition }),
    ...(waitsForWorkers && workersUnavailable ? { workersUnavailable } : {}),
    name: spec.name,
    totalSteps: spec.totalSteps,
    epoch: state.step / spec.stepsPerEpoch,
    progress: state.step / spec.totalSteps,
    spec,
  };
}
