import { EventEmitter } from 'node:events';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { layoutsOf, ModelLayouts } from '@resnet/model';
import {
  EvalMetrics,
  JobMetrics,
  JobState,
  JobStatus,
  RedisKeys,
  ReusableBuffer,
  ShardOutcome,
  StepMetrics,
} from '@resnet/protocol';
import { architectureOf, partitionedModel, PartitionedModelCodec, TrainingJobSpec } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { FencedOffError } from '../src/errors/leadership.errors';
import { RejectedShardResultError } from '../src/errors/shard.errors';
import { LeadershipListener, LeadershipService } from '../src/leadership/leadership.service';
import { initialJobWeights } from '../src/plan/training-plan';
import { Checkpoint } from '../src/repositories/checkpoint.store';
import { JobRepository, statusesBefore, StepCommit, StoredJob } from '../src/repositories/job.repository';
import { ShardDispatcher } from '../src/repositories/shard-dispatcher';
import { ShardRunOptions } from '../src/repositories/shard-dispatcher.options';

// In-memory stand-ins for the coordinator's repositories, for unit tests of its services: they
// keep what a test needs to see and nothing of Redis, BullMQ or the disk.

/** A small synchronous-SGD job on generated 8×8 images: every derived field filled in. */
export function testSpec(overrides: Partial<TrainingJobSpec> = {}): TrainingJobSpec {
  return {
    name: 'unit',
    model: 'resnet20',
    shortcut: 'projection',
    dataset: { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 2, seed: 1 },
    batchSize: 8,
    shardsPerStep: 2,
    gradientEncoding: 'fp32',
    localSteps: 1,
    seed: 0,
    optimizer: { momentum: 0, weightDecay: 0, nesterov: false },
    schedule: {
      lr: 0.1,
      warmupSteps: 0,
      decay: 'constant',
      milestones: [],
      factor: 0.1,
      referenceBatch: null,
    },
    augment: null,
    evalEvery: 0,
    evalShardSize: 16,
    checkpointEvery: 0,
    totalSteps: 3,
    numClasses: 2,
    classNames: ['a', 'b'],
    imageShape: [8, 8],
    trainSize: 64,
    testSize: 16,
    stepsPerEpoch: 8,
    normalization: { mean: [0, 0, 0], std: [1, 1, 1] },
    ...overrides,
  };
}

export function layoutsFor(spec: TrainingJobSpec): ModelLayouts {
  return layoutsOf(architectureOf(spec));
}

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
      state: { id, status: 'running', step, priority: 0, weight: 1, createdAt: 1, updatedAt: 1 },
    });
  }

  as(): JobRepository {
    return this as unknown as JobRepository;
  }

  private checkFence(fence: number): void {
    if (fence !== this.leaderFence) throw new FencedOffError(`fencing token ${fence} is stale`);
  }
}

/** Leadership decided by the test: it elects and deposes the listener by hand. */
export class FakeLeadership implements Partial<LeadershipService> {
  token: number | null = null;
  readonly coordinatorId = 'coordinator-under-test';
  readonly stepDowns: string[] = [];
  private listener: LeadershipListener | null = null;

  follow(listener: LeadershipListener): void {
    this.listener = listener;
  }

  async elect(fence: number): Promise<void> {
    this.token = fence;
    await this.listener!.elected(fence);
  }

  async renew(): Promise<void> {
    await this.listener!.leading(this.token!);
  }

  async stepDown(reason: string): Promise<void> {
    if (this.token === null) return;
    this.token = null;
    this.stepDowns.push(reason);
    await this.listener!.deposed(reason);
  }

  as(): LeadershipService {
    return this as unknown as LeadershipService;
  }
}

/** What a shard's worker answers: an outcome, or a function of the task for each try. */
export type ScriptedOutcome = (shard: number, attempt: number) => ShardOutcome;

/**
 * Runs shards at once, in order, with outcomes from a script; like the real dispatcher it calls
 * onEnqueued first, and runs a shard again when its outcome is rejected.
 */
export class FakeShardDispatcher implements Partial<ShardDispatcher> {
  readonly runs: ShardRunOptions[] = [];
  readonly rejections: { shard: number; err: RejectedShardResultError }[] = [];

  constructor(private readonly script: ScriptedOutcome) {}

  async run(options: ShardRunOptions): Promise<{ enqueueMs: number }> {
    this.runs.push(options);
    await options.onEnqueued?.();
    for (const task of options.tasks) {
      for (let attempt = 1; ; attempt++) {
        const outcome = this.script(task.shard, attempt);
        try {
          await options.onOutcome(task, outcome);
          break;
        } catch (err) {
          if (!(err instanceof RejectedShardResultError) || attempt >= 5) throw err;
          this.rejections.push({ shard: task.shard, err });
          await options.onRejected?.(outcome, err);
        }
      }
    }
    return { enqueueMs: 0 };
  }

  as(): ShardDispatcher {
    return this as unknown as ShardDispatcher;
  }
}

/** Checkpoints in a map, keyed by `<jobId>/step-<N>` as the real store names its folders. */
export class FakeCheckpointStore {
  readonly checkpoints = new Map<string, Checkpoint>();

  put(checkpoint: Checkpoint): void {
    const { jobId, step } = checkpoint.manifest;
    this.checkpoints.set(`${jobId}/step-${step}`, checkpoint);
  }

  async load(relative: string): Promise<Checkpoint> {
    const checkpoint = this.checkpoints.get(relative);
    if (!checkpoint) throw new Error(`cannot read checkpoint ${relative}`);
    return checkpoint;
  }

  async jobIds(): Promise<string[]> {
    return [...new Set([...this.checkpoints.keys()].map((k) => k.split('/')[0]))];
  }

  async latestFolder(jobId: string): Promise<string | null> {
    const steps = [...this.checkpoints.values()]
      .filter((c) => c.manifest.jobId === jobId)
      .map((c) => c.manifest.step)
      .sort((a, b) => a - b);
    return steps.length ? `/checkpoints/${jobId}/step-${steps.at(-1)}` : null;
  }
}

/** An ioredis client as far as the services look at it: its status and its events. */
export class FakeRedisConnection extends EventEmitter {
  status = 'ready';
}

/** Keeps the services' Nest log lines out of mocha's report while the calling suite runs. */
export function quietNestLogs(): void {
  before(() => Logger.overrideLogger(false));
  after(() => Logger.overrideLogger(new ConsoleLogger()));
}

/** A Nest log line that is an object (the job lifecycle lines), with the level it went out at. */
export interface CapturedLogLine {
  readonly level: string;
  readonly job?: string;
  readonly jobName?: string;
  readonly event?: string;
  readonly msg?: string;
}

/** Keeps Nest's object log lines from now until the logger is overridden again. */
export function captureNestLogs(): CapturedLogLine[] {
  const lines: CapturedLogLine[] = [];
  const keep =
    (level: string) =>
    (message: unknown): void => {
      if (typeof message === 'object' && message !== null) lines.push({ level, ...(message as object) });
    };
  Logger.overrideLogger({
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
  });
  return lines;
}
