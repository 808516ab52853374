import { Inject, Injectable } from '@nestjs/common';
import {
  EvalMetrics,
  JobMetrics,
  JobState,
  JobStatus,
  RedisKeys,
  ReusableBuffer,
  StepMetrics,
  TensorCodec,
  VersionAnnouncement,
} from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient } from '@resnet/redis-connections';
import { FencedOffError } from '../errors/leadership.errors';
import { FencedCommand, FencedCondition, FencedWriter } from './fenced-writer';
import { BLOBS, REDIS } from './redis.providers';

export interface StoredJob {
  readonly spec: TrainingJobSpec;
  readonly state: JobState;
}

export interface StepCommit {
  readonly jobId: string;
  /** The version the step started from: the job's committed step, or the commit is another leader's duplicate. */
  readonly previous: number;
  /** The version the step (or local-SGD round) produced (= global steps applied). */
  readonly version: number;
  readonly weights: Buffer;
  readonly velocity: Float32Array;
  /** Memory to encode the optimizer state into, kept from one commit to the next. */
  readonly velocityMessage: ReusableBuffer;
  readonly metrics: StepMetrics;
  readonly gradientKeys: readonly string[];
}

/** How long a step's staged weights and optimizer state outlive a commit that never comes. */
const STAGED_TTL_SECONDS = 3600;

/** The statuses a training loop writes; any other change of status is an operator's. */
/** What a training loop may set: running, its outcome, or queued again when a job of higher priority preempts it. */
export type TrainingStatus = Extract<JobStatus, 'running' | 'completed' | 'failed' | 'queued'>;

/**
 * Every Redis read and write about jobs: specs, states, weight versions, optimizer state, metrics.
 * The training loop's writes carry the fencing token the loop started under (see FencedWriter) and
 * throw FencedOffError once another coordinator leads.
 */
@Injectable()
export class JobRepository {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BLOBS) private readonly blobs: BlobStore,
    private readonly keys: RedisKeys,
    private readonly fenced: FencedWriter,
  ) {}

  async create(
    id: string,
    spec: TrainingJobSpec,
    weights: Buffer,
    velocity: Float32Array,
    share: { readonly priority: number; readonly weight: number },
  ): Promise<StoredJob> {
    const now = Date.now();
    const state: JobState = { id, status: 'queued', step: 0, ...share, createdAt: now, updatedAt: now };
    await this.redis
      .multi()
      .hset(this.keys.job(id), { spec: JSON.stringify(spec), ...state })
      .set(this.keys.weights(id, 0), weights)
      .set(this.keys.momentum(id), encodeVelocity(velocity))
      .zadd(this.keys.jobIndex(), now, id)
      .exec();
    return { spec, state };
  }

  /** Recreates a job from a checkpoint: everything `create` and the commits up to `step` had written. */
  async restore(
    id: string,
    spec: TrainingJobSpec,
    step: number,
    weights: Buffer,
    velocity: Buffer,
    metrics: JobMetrics,
  ): Promise<void> {
    const now = Date.now();
    const tx = this.redis
      .multi()
      .hset(this.keys.job(id), {
        spec: JSON.stringify(spec),
        id,
        status: 'running',
        step,
        createdAt: now,
        updatedAt: now,
      })
      .set(this.keys.weights(id, step), weights)
      .set(this.keys.momentum(id), velocity)
      .zadd(this.keys.jobIndex(), now, id)
      .del(this.keys.stepMetrics(id), this.keys.evalMetrics(id));
    if (metrics.steps.length)
      tx.rpush(this.keys.stepMetrics(id), ...metrics.steps.map((m) => JSON.stringify(m)));
    if (metrics.evals.length)
      tx.rpush(this.keys.evalMetrics(id), ...metrics.evals.map((m) => JSON.stringify(m)));
    await tx.exec();
  }

  async get(id: string): Promise<StoredJob | null> {
    // Fields are stored separately so that status changes and step commits never overwrite each other.
    const h = await this.redis.hgetall(this.keys.job(id));
    if (!h.spec) return null;
    const state: JobState = {
      id,
      status: h.status as JobStatus,
      step: Number(h.step),
      // Jobs written before priorities existed, or restored from a checkpoint, have none.
      priority: Number(h.priority ?? 0),
      weight: Number(h.weight ?? 1),
      createdAt: Number(h.createdAt),
      updatedAt: Number(h.updatedAt),
      ...(h.error ? { error: h.error } : {}),
    };
    return { spec: JSON.parse(h.spec), state };
  }

  async list(): Promise<StoredJob[]> {
    const ids = await this.redis.zrevrange(this.keys.jobIndex(), 0, -1);
    const jobs = await Promise.all(ids.map((id) => this.get(id)));
    return jobs.filter((j): j is StoredJob => j !== null);
  }

  /** An operator's change of status (pause, cancel, resume), from any coordinator; clears a stale error. */
  async setStatus(id: string, status: JobStatus): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.job(id), { status, updatedAt: Date.now() })
      .hdel(this.keys.job(id), 'error')
      .exec();
  }

  /**
   * A training loop's change of status: `running` only from queued or running, and the outcome
   * only while running, so that it never overrides an operator's pause or cancel. False when the
   * job's status forbade it.
   */
  async setTrainingStatus(
    fence: number,
    id: string,
    status: TrainingStatus,
    error?: string,
  ): Promise<boolean> {
    const key = this.keys.job(id);
    const commands: FencedCommand[] = [['HSET', key, 'status', status, 'updatedAt', String(Date.now())]];
    commands.push(error ? ['HSET', key, 'error', error] : ['HDEL', key, 'error']);
    const from = status === 'running' ? ['queued', 'running'] : ['running'];
    return this.fencedWrite(fence, commands, [{ key, field: 'status', oneOf: from }]);
  }

  async weights(id: string, version: number): Promise<Buffer> {
    const buf = await this.redis.getBuffer(this.keys.weights(id, version));
    if (!buf) throw new Error(`weights version ${version} of job ${id} are missing from Redis`);
    return buf;
  }

  async velocity(id: string): Promise<Float32Array> {
    const buf = await this.redis.getBuffer(this.keys.momentum(id));
    if (!buf) throw new Error(`optimizer state of job ${id} is missing from Redis`);
    return TensorCodec.decode(buf).data;
  }

  /** Read into `into`; null when the blob is gone (expired, or lost with Redis's data). */
  gradient(key: string, into: ReusableBuffer): Promise<Buffer | null> {
    return this.blobs.get(key, into);
  }

  /**
   * Commits a step atomically: the new weights version, the optimizer state, the step counter and
   * the step's metrics land together or not at all, and the previous version and the step's
   * gradient blobs are freed. The two big values travel first, through the blob connection, under
   * staged keys that nothing reads; the commit itself is one small fenced script that renames them
   * into place, and only if the job is still at `previous`: each step is committed once, whoever
   * else computed it. Staged values expire unless committed, so a deposed leader whose commit is
   * refused leaves nothing behind for long.
   */
  async commitStep(c: StepCommit, fence: number): Promise<void> {
    const stagedWeights = this.keys.weightsStaged(c.jobId, c.version);
    const stagedMomentum = this.keys.momentumStaged(c.jobId, c.version);
    const weights = this.keys.weights(c.jobId, c.version);
    const momentum = this.keys.momentum(c.jobId);
    const job = this.keys.job(c.jobId);
    await Promise.all([
      this.blobs.set(stagedWeights, c.weights, STAGED_TTL_SECONDS),
      this.blobs.set(stagedMomentum, encodeVelocity(c.velocity, c.velocityMessage), STAGED_TTL_SECONDS),
    ]);
    const committed = await this.fencedWrite(
      fence,
      [
        // RENAME carries the expiry over: PERSIST drops it.
        ['RENAME', stagedWeights, weights],
        ['PERSIST', weights],
        ['RENAME', stagedMomentum, momentum],
        ['PERSIST', momentum],
        ['HSET', job, 'step', String(c.version), 'updatedAt', String(Date.now())],
        ['RPUSH', this.keys.stepMetrics(c.jobId), JSON.stringify(c.metrics)],
        // UNLINK frees the big values off Redis's main thread.
        ['UNLINK', this.keys.weights(c.jobId, c.previous), ...c.gradientKeys],
      ],
      [{ key: job, field: 'step', oneOf: [String(c.previous)] }],
    );
    if (!committed) {
      throw new FencedOffError(`step ${c.previous} of job ${c.jobId} was committed by another coordinator`);
    }
  }

  /** Tells workers that computed the `previous` version to fetch this one now (WeightsPrefetcher). */
  async announceVersion(jobId: string, version: number, previous: number): Promise<void> {
    await this.redis.publish(
      this.keys.versionChannel(),
      JSON.stringify({ jobId, version, previous } satisfies VersionAnnouncement),
    );
  }

  async pushEval(id: string, metrics: EvalMetrics, fence: number): Promise<void> {
    await this.fencedWrite(fence, [['RPUSH', this.keys.evalMetrics(id), JSON.stringify(metrics)]]);
  }

  async metrics(id: string): Promise<JobMetrics> {
    const [steps, evals] = await Promise.all([
      this.redis.lrange(this.keys.stepMetrics(id), 0, -1),
      this.redis.lrange(this.keys.evalMetrics(id), 0, -1),
    ]);
    return { steps: steps.map((s) => JSON.parse(s)), evals: evals.map((s) => JSON.parse(s)) };
  }

  /** True when written, false when a condition did not hold; throws once another coordinator leads. */
  private async fencedWrite(
    fence: number,
    commands: readonly FencedCommand[],
    conditions: readonly FencedCondition[] = [],
  ): Promise<boolean> {
    const result = await this.fenced.write(fence, commands, conditions);
    if (result === 'fenced')
      throw new FencedOffError(`fencing token ${fence} is stale: another coordinator leads`);
    return result === 'written';
  }
}

function encodeVelocity(velocity: Float32Array, into?: ReusableBuffer): Buffer {
  return TensorCodec.encode([{ name: 'velocity', shape: [velocity.length] }], [velocity], {}, { into });
}
