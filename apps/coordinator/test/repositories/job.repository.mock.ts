import {
  DEFAULT_JOB_SHARE,
  EvalMetrics,
  JobMetrics,
  JobState,
  JobStatus,
  RedisKeys,
  ReusableBuffer,
  StepMetrics,
} from '@resnet/protocol';
import { partitionedModel, PartitionedModelCodec, TrainingJobSpec } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { FencedOffError } from '../../src/errors/leadership.errors';
import { initialJobWeights } from '../../src/plan/training-plan';
import {
  JobRepository,
  ServicesStepCommit,
  statusesBefore,
  StepCommit,
  StoredJob,
  UnitRecord,
} from '../../src/repositories/job.repository';
import { layoutsFor } from '../../../../test/support/test-job-spec';

/** Jobs, weights versions, gradient messages and metrics in maps; records what the services did. */
export class FakeJobRepository implements Partial<JobRepository> {
  readonly jobs = new Map<string, { spec: TrainingJobSpec; state: JobState }>();
  /** Each version's messages, one per partition, under `id@version`. */
  readonly versions = new Map<string, readonly Buffer[]>();
  /** The big values "in Redis": gradient messages, and what the aggregators stage (see blobs()). */
  readonly values = new Map<string, Buffer>();
  readonly keys = new RedisKeys();
  readonly metricsOf = new Map<string, { steps: StepMetrics[]; evals: EvalMetrics[] }>();
  readonly commits: StepCommit[] = [];
  readonly announced: { jobId: string; version: number; previous: number }[] = [];
  readonly restored: string[] = [];
  /** Commits of jobs on summation services, and their steps redone (or rolled back). */
  readonly servicesCommits: ServicesStepCommit[] = [];
  readonly redos: { from: number; attempt: number; back?: UnitRecord }[] = [];
  /** The fencing token in "Redis": the current leader's. Writes under another are refused. */
  leaderFence = 1;
  private velocities = new Map<string, readonly Buffer[]>();

  /** A job at step 0 with its initial weights, as JobsService.create stores it; each later than the last. */
  add(id: string, spec: TrainingJobSpec, status: JobStatus = 'queued', priority = 0): void {
    const layouts = layoutsFor(spec);
    const { partitions } = partitionedModel(spec, layouts);
    this.jobs.set(id, {
      spec,
      state: { id, status, step: 0, priority, weight: 1, createdAt: this.jobs.size + 1, updatedAt: 1 },
    });
    this.versions.set(
      `${id}@0`,
      PartitionedModelCodec.encodeWeights(partitions, initialJobWeights(spec, layouts), { version: 0 }),
    );
    this.velocities.set(
      id,
      PartitionedModelCodec.encodeVelocity(partitions, new Float32Array(layouts.params.size)),
    );
    this.metricsOf.set(id, { steps: [], evals: [] });
  }

  async get(id: string): Promise<StoredJob | null> {
    const job = this.jobs.get(id);
    return job ? { spec: job.spec, state: { ...job.state } } : null;
  }

  async list(): Promise<StoredJob[]> {
    return [...this.jobs.keys()].map((id) => ({ ...this.jobs.get(id)! }));
  }

  async setStatus(id: string, status: JobStatus): Promise<void> {
    const job = this.jobs.get(id)!;
    job.state = { ...job.state, status, error: undefined };
  }

  async setTrainingStatus(
    ...[fence, id, status, error]: Parameters<JobRepository['setTrainingStatus']>
  ): Promise<boolean> {
    this.checkFence(fence);
    const job = this.jobs.get(id)!;
    if (!statusesBefore(status).includes(job.state.status)) return false;
    job.state = { ...job.state, status, error };
    return true;
  }

  async weights(id: string, _spec: TrainingJobSpec, version: number): Promise<Buffer[]> {
    const messages = this.versions.get(`${id}@${version}`);
    if (!messages) throw new Error(`weights version ${version} of job ${id} are missing`);
    return [...messages];
  }

  async velocity(id: string, _spec: TrainingJobSpec): Promise<Buffer[]> {
    return [...this.velocities.get(id)!];
  }

  /** The blob connection of the aggregators, over `values`. */
  blobs(): BlobStore {
    return {
      get: async (key: string, _into: ReusableBuffer) => this.values.get(key) ?? null,
      // A copy: the aggregators encode the next step into the same memory.
      set: async (key: string, value: Buffer) => void this.values.set(key, Buffer.from(value)),
      close: () => undefined,
    };
  }

  async commitStep(c: StepCommit, fence: number): Promise<void> {
    this.checkFence(fence);
    if (this.jobs.get(c.jobId)?.state.step !== c.previous)
      throw new FencedOffError(`step ${c.previous} was committed by another coordinator`);
    this.commits.push(c);
    const parts = Array.from({ length: c.partitions }, (_, p) => this.keys.partition(p, c.partitions));
    const staged = (key: string) => {
      const value = this.values.get(key);
      if (!value) throw new Error(`nothing staged under ${key}`);
      return value;
    };
    this.versions.set(
      `${c.jobId}@${c.version}`,
      parts.map((keys) => staged(keys.weightsStaged(c.jobId, c.version, fence))),
    );
    this.velocities.set(
      c.jobId,
      parts.map((keys) => staged(keys.momentumStaged(c.jobId, c.version, fence))),
    );
    const job = this.jobs.get(c.jobId);
    if (job) job.state = { ...job.state, step: c.version };
    this.metricsOf.get(c.jobId)?.steps.push(c.metrics);
  }

  async commitServicesStep(c: ServicesStepCommit, fence: number): Promise<void> {
    this.checkFence(fence);
    this.servicesCommits.push(c);
  }

  async redoStep(
    _jobId: string,
    fence: number,
    from: number,
    attempt: number,
    back?: UnitRecord,
  ): Promise<void> {
    this.checkFence(fence);
    this.redos.push({ from, attempt, ...(back ? { back } : {}) });
  }

  async announceVersion(jobId: string, version: number, previous: number): Promise<void> {
    this.announced.push({ jobId, version, previous });
  }

  async pushEval(id: string, metrics: EvalMetrics, fence: number): Promise<void> {
    this.checkFence(fence);
    this.metricsOf.get(id)!.evals.push(metrics);
  }

  async metrics(id: string): Promise<JobMetrics> {
    return this.metricsOf.get(id) ?? { steps: [], evals: [] };
  }

  async create(
    ...[id, spec, weights, velocity, share]: Parameters<JobRepository['create']>
  ): Promise<StoredJob> {
    this.add(id, spec, 'queued', share.priority);
    this.versions.set(`${id}@0`, weights);
    this.velocities.set(id, velocity);
    return (await this.get(id))!;
  }

  async restore(...[id, spec, step, weights, velocity]: Parameters<JobRepository['restore']>): Promise<void> {
    this.restored.push(id);
    this.versions.set(`${id}@${step}`, weights);
    this.velocities.set(id, velocity);
    this.jobs.set(id, {
      spec,
      state: { id, status: 'running', step, ...DEFAULT_JOB_SHARE, createdAt: 1, updatedAt: 1 },
    });
  }

  as(): JobRepository {
    return this as unknown as JobRepository;
  }

  private checkFence(fence: number): void {
    if (fence !== this.leaderFence) throw new FencedOffError(`fencing token ${fence} is stale`);
  }
}
