import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  DEFAULT_JOB_SHARE,
  EvalMetrics,
  JobMetrics,
  JobShare,
  JobState,
  JobStatus,
  PartitionKeys,
  RedisKeys,
  StepMetrics,
  UnitCommit,
  VersionAnnouncement,
} from '@resnet/protocol';
import { partitionCountOf, previousVersion, TrainingJobSpec } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient } from '@resnet/redis-connections';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { FencedOffError } from '../errors/leadership.errors';
import { JobDataMissingError } from '../errors/job.errors';
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
  /**
   * Partitions of the model (see ModelPartition), each of which has staged its share of the new
   * version and optimizer state under this coordinator's fencing token (PartitionAggregation.stage).
   */
  readonly partitions: number;
  readonly metrics: StepMetrics;
  /** The step's gradient messages to free, per partition. */
  readonly gradientKeys: readonly (readonly string[])[];
}

/** The commit record of a job on summation services: each unit's lease epoch and weights hash at `version`. */
export interface UnitRecord {
  readonly version: number;
  readonly units: readonly UnitCommit[];
}

export interface ServicesStepCommit {
  readonly jobId: string;
  /** As in StepCommit. */
  readonly previous: number;
  readonly version: number;
  /** Every unit's epoch and weights hash at `version`, from the services' reports. */
  readonly units: readonly UnitCommit[];
  readonly metrics: StepMetrics;
  /** The step's report lists, freed with the commit. */
  readonly reportKeys: readonly string[];
}

/** What a training loop may set: running, its outcome, or queued again when a job of higher priority preempts it. */
export type TrainingStatus = Extract<JobStatus, 'running' | 'completed' | 'failed' | 'queued'>;

/**
 * The statuses a training loop may change to `status` from: `running` only from queued or
 * running, and an outcome only while running, so that it never overrides an operator's pause or
 * cancel.
 */
export function statusesBefore(status: TrainingStatus): readonly JobStatus[] {
  return status === 'running' ? ['queued', 'running'] : ['running'];
}

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
    @Optional()
    @Inject(COORDINATOR_CONFIG)
    private readonly config?: Pick<CoordinatorConfig, 'holdCommitAfterRecord'>,
  ) {}

  /** `weights` and `velocity`: the job's first version and optimizer state, one message per partition. */
  async create(
    id: string,
    spec: TrainingJobSpec,
    weights: readonly Buffer[],
    velocity: readonly Buffer[],
    share: JobShare,
  ): Promise<StoredJob> {
    const now = Date.now();
    const state: JobState = { id, status: 'queued', step: 0, ...share, createdAt: now, updatedAt: now };
    // The model first: a job is listed only once everything it needs can be read.
    await this.putModel(id, 0, weights, velocity);
    await this.redis
      .multi()
      .hset(this.keys.job(id), { spec: JSON.stringify(spec), ...state })
      .zadd(this.keys.jobIndex(), now, id)
      .exec();
    return { spec, state };
  }

  /**
   * Recreates a job from a checkpoint: everything `create` and the commits up to `step` had written,
   * with the default share (a checkpoint keeps none).
   */
  async restore(
    id: string,
    spec: TrainingJobSpec,
    step: number,
    weights: readonly Buffer[],
    velocity: readonly Buffer[],
    metrics: JobMetrics,
  ): Promise<void> {
    const now = Date.now();
    await this.putModel(id, step, weights, velocity);
    const tx = this.redis
      .multi()
      .hset(this.keys.job(id), {
        spec: JSON.stringify(spec),
        id,
        status: 'running',
        step,
        ...DEFAULT_JOB_SHARE,
        createdAt: now,
        updatedAt: now,
      })
      .zadd(this.keys.jobIndex(), now, id)
      .del(this.keys.stepMetrics(id), this.keys.evalMetrics(id));
    if (metrics.steps.length)
      tx.rpush(this.keys.stepMetrics(id), ...metrics.steps.map((m) => JSON.stringify(m)));
    if (metrics.evals.length)
      tx.rpush(this.keys.evalMetrics(id), ...metrics.evals.map((m) => JSON.stringify(m)));
    await tx.exec();
  }

  /** Each partition's weights version and optimizer state, under its partition's keys (in a cluster, on its master). */
  private async putModel(
    id: string,
    version: number,
    weights: readonly Buffer[],
    velocity: readonly Buffer[],
  ): Promise<void> {
    await Promise.all(
      weights.flatMap((message, p) => {
        const keys = this.keys.partition(p, weights.length);
        return [
          this.blobs.set(keys.weights(id, version), message),
          this.blobs.set(keys.momentum(id), velocity[p]),
        ];
      }),
    );
  }

  async get(id: string): Promise<StoredJob | null> {
    // Fields are stored separately so that status changes and step commits never overwrite each other.
    const h = await this.redis.hgetall(this.keys.job(id));
    if (!h.spec) return null;
    const state: JobState = {
      id,
      status: h.status as JobStatus,
      step: Number(h.step),
      priority: Number(h.priority),
      weight: Number(h.weight),
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

  /** A training loop's change of status (see statusesBefore); false when the job's status forbade it. */
  async setTrainingStatus(
    fence: number,
    id: string,
    status: TrainingStatus,
    error?: string,
  ): Promise<boolean> {
    const key = this.keys.job(id);
    const commands: FencedCommand[] = [['HSET', key, 'status', status, 'updatedAt', String(Date.now())]];
    commands.push(error ? ['HSET', key, 'error', error] : ['HDEL', key, 'error']);
    return this.fencedWrite(fence, commands, [{ key, field: 'status', oneOf: statusesBefore(status) }]);
  }

  /**
   * Weights version `version`, one message per partition. A partition missing at the job's current
   * version is one whose commit was cut short after the step was recorded: it is moved into place
   * from what the committing coordinator staged (see commitStep).
   */
  async weights(id: string, spec: TrainingJobSpec, version: number): Promise<Buffer[]> {
    const count = partitionCountOf(spec);
    return Promise.all(
      Array.from({ length: count }, async (_, p) => {
        const keys = this.keys.partition(p, count);
        const key = keys.weights(id, version);
        const buf =
          (await this.redis.getBuffer(key)) ??
          ((await this.rollForward(id, spec, version, p)) ? await this.redis.getBuffer(key) : null);
        if (!buf)
          throw new JobDataMissingError(`weights version ${version} of job ${id} are missing from Redis`);
        return buf;
      }),
    );
  }

  /**
   * The optimizer state, one message per partition. A job on summation services has it per
   * version (`version`), as its services wrote it durable, except at the version the job was
   * created or restored at.
   */
  async velocity(id: string, spec: TrainingJobSpec, version?: number): Promise<Buffer[]> {
    const count = partitionCountOf(spec);
    return Promise.all(
      Array.from({ length: count }, async (_, p) => {
        const keys = this.keys.partition(p, count);
        const buf =
          (version === undefined ? null : await this.redis.getBuffer(keys.momentumAt(id, version))) ??
          (await this.redis.getBuffer(keys.momentum(id)));
        if (!buf) throw new JobDataMissingError(`optimizer state of job ${id} is missing from Redis`);
        return buf;
      }),
    );
  }

  /**
   * Commits a step: the new weights version, the optimizer state, the step counter and the step's
   * metrics, and frees the previous version and the step's gradient messages. The big values came
   * first, staged by each partition under keys of this coordinator's fencing token that nothing
   * reads and that expire unless committed; the commit itself is one small fenced script, which
   * records the step only if the job is still at `previous`: each step is committed once, whoever
   * else computed it, and a deposed leader whose commit is refused leaves nothing behind for long.
   *
   * With one partition the script also renames the staged values into place, so everything lands
   * together. With several, each partition's keys sit in a Redis Cluster slot of their own, which
   * no script can span: the script records the step and the token that staged it, then each
   * partition moves its own values into place. A commit cut short between the two is finished by
   * whoever reads the version next (see weights()).
   */
  async commitStep(c: StepCommit, fence: number): Promise<void> {
    const parts = Array.from({ length: c.partitions }, (_, p) => this.keys.partition(p, c.partitions));
    const job = this.keys.job(c.jobId);
    const record: FencedCommand[] = [
      ['HSET', job, 'step', String(c.version), 'committedBy', String(fence), 'updatedAt', String(Date.now())],
      ['RPUSH', this.keys.stepMetrics(c.jobId), JSON.stringify(c.metrics)],
    ];
    const move = moveIntoPlace(parts[0], c.jobId, c.previous, c.version, fence, c.gradientKeys[0]);
    const committed = await this.fencedWrite(
      fence,
      c.partitions === 1 ? [...record, ...move.commands] : record,
      [{ key: job, field: 'step', oneOf: [String(c.previous)] }],
      c.partitions === 1 ? move.staged : [],
    );
    if (!committed) {
      if (c.partitions === 1 && (await this.redis.hget(job, 'step')) === String(c.previous))
        throw stagedMissing(c.jobId, c.version, fence);
      throw new FencedOffError(`step ${c.previous} of job ${c.jobId} was committed by another coordinator`);
    }
    if (c.partitions > 1) {
      if (this.config?.holdCommitAfterRecord === c.version) await holdForever(c);
      await Promise.all(
        parts.map(async (keys, p) => {
          const moved = await this.moveIfStaged(
            moveIntoPlace(keys, c.jobId, c.previous, c.version, fence, c.gradientKeys[p]),
          );
          // Not moved: a reader rolled this partition forward first (see weights()), or its staged values are gone.
          if (!moved && !(await this.redis.exists(keys.weights(c.jobId, c.version))))
            throw stagedMissing(c.jobId, c.version, fence);
        }),
      );
    }
  }

  /**
   * Commits a step of a job on summation services: the step counter, its metrics, and the commit
   * record (each unit's lease epoch and weights hash), which workers check every pulled unit
   * against. The weights stay with the services, which write them durable afterwards. Fenced and
   * conditional on the job's step like commitStep.
   */
  async commitServicesStep(c: ServicesStepCommit, fence: number): Promise<void> {
    const job = this.keys.job(c.jobId);
    const record: UnitRecord = { version: c.version, units: c.units };
    const commands: FencedCommand[] = [
      [
        'HSET',
        job,
        'step',
        String(c.version),
        'committedBy',
        String(fence),
        'units',
        JSON.stringify(record),
        'updatedAt',
        String(Date.now()),
      ],
      ['RPUSH', this.keys.stepMetrics(c.jobId), JSON.stringify(c.metrics)],
    ];
    if (c.reportKeys.length) commands.push(['DEL', ...c.reportKeys]);
    const committed = await this.fencedWrite(fence, commands, [
      { key: job, field: 'step', oneOf: [String(c.previous)] },
    ]);
    if (!committed)
      throw new FencedOffError(`step ${c.previous} of job ${c.jobId} was committed by another coordinator`);
  }

  /** The last commit record of a job on summation services, if any, and the attempt its steps run under. */
  async unitRecord(jobId: string): Promise<{ record: UnitRecord | null; attempt: number }> {
    const [raw, attempt] = await this.redis.hmget(this.keys.job(jobId), 'units', 'attempt');
    return { record: raw ? (JSON.parse(raw) as UnitRecord) : null, attempt: Number(attempt ?? 0) };
  }

  /**
   * A step of a job on summation services must be redone: a service was lost. Raises the job's
   * attempt to `attempt` (services refuse the lower one from then on). With `back`, the job also
   * rolls back from version `from` to `back.version`, whose units are durable: its step, its
   * record, and the last step's metrics. Fenced and conditional on the job being at `from`.
   */
  async redoStep(
    jobId: string,
    fence: number,
    from: number,
    attempt: number,
    back?: UnitRecord,
  ): Promise<void> {
    const job = this.keys.job(jobId);
    const commands: FencedCommand[] = [['HSET', job, 'attempt', String(attempt)]];
    if (back) {
      commands.push(['HSET', job, 'step', String(back.version), 'units', JSON.stringify(back)]);
      commands.push(['LTRIM', this.keys.stepMetrics(jobId), '0', '-2']);
    }
    const written = await this.fencedWrite(fence, commands, [
      { key: job, field: 'step', oneOf: [String(from)] },
    ]);
    if (!written)
      throw new FencedOffError(`step ${from} of job ${jobId} was committed by another coordinator`);
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

  /**
   * Finishes a partition's part of a commit that was cut short (see commitStep): when the job's
   * recorded step is `version`, the values its committer staged are moved into place. False when
   * there is nothing to move.
   */
  private async rollForward(
    id: string,
    spec: TrainingJobSpec,
    version: number,
    partition: number,
  ): Promise<boolean> {
    const [step, committedBy] = await this.redis.hmget(this.keys.job(id), 'step', 'committedBy');
    if (Number(step) !== version || committedBy === null) return false;
    const keys = this.keys.partition(partition, partitionCountOf(spec));
    const fence = Number(committedBy);
    if (await this.moveIfStaged(moveIntoPlace(keys, id, previousVersion(spec, version), version, fence, [])))
      return true;
    // The committer itself finished it in the meantime, or there is nothing to move.
    return (await this.redis.exists(keys.weights(id, version))) === 1;
  }

  /**
   * A partition's move into place, all of it or, when a staged value is missing, none of it. A
   * MULTI could not promise that: Redis runs the rest of a transaction after a command fails at run
   * time (a RENAME of a missing key) and undoes nothing. False when something staged was missing.
   */
  private async moveIfStaged(move: PartitionMove): Promise<boolean> {
    const moved = await this.redis.eval(
      MOVE_IF_STAGED,
      move.staged.length,
      ...move.staged,
      JSON.stringify(move.commands),
    );
    return moved === 1;
  }

  /** True when written, false when a condition did not hold; throws once another coordinator leads. */
  private async fencedWrite(
    fence: number,
    commands: readonly FencedCommand[],
    conditions: readonly FencedCondition[] = [],
    requiredKeys: readonly string[] = [],
  ): Promise<boolean> {
    const result = await this.fenced.write(fence, commands, conditions, requiredKeys);
    if (result === 'fenced')
      throw new FencedOffError(`fencing token ${fence} is stale: another coordinator leads`);
    return result === 'written';
  }
}

/**
 * Runs the commands (ARGV[1]) only when every key in KEYS exists, checking all before writing any.
 * The commands' keys share the slot of KEYS (one partition's hash tag), as a Redis Cluster requires.
 */
const MOVE_IF_STAGED = `
for _, key in ipairs(KEYS) do if redis.call('EXISTS', key) == 0 then return 0 end end
for _, c in ipairs(cjson.decode(ARGV[1])) do redis.call(unpack(c)) end
return 1
`;

/** The commands that move a partition's staged values into place, and the staged keys they need. */
interface PartitionMove {
  readonly commands: FencedCommand[];
  readonly staged: readonly string[];
}

/** Renames a partition's staged version and optimizer state into place and frees what the step leaves behind. */
function moveIntoPlace(
  keys: PartitionKeys,
  jobId: string,
  previous: number,
  version: number,
  fence: number,
  gradientKeys: readonly string[],
): PartitionMove {
  const weights = keys.weights(jobId, version);
  const momentum = keys.momentum(jobId);
  const weightsStaged = keys.weightsStaged(jobId, version, fence);
  const momentumStaged = keys.momentumStaged(jobId, version, fence);
  return {
    commands: [
      // RENAME carries the expiry over: PERSIST drops it.
      ['RENAME', weightsStaged, weights],
      ['PERSIST', weights],
      ['RENAME', momentumStaged, momentum],
      ['PERSIST', momentum],
      // UNLINK frees the big values off Redis's main thread.
      ['UNLINK', keys.weights(jobId, previous), ...gradientKeys],
    ],
    staged: [weightsStaged, momentumStaged],
  };
}

/** The test hook HOLD_COMMIT_AFTER_RECORD (CoordinatorConfig.holdCommitAfterRecord). */
async function holdForever(c: StepCommit): Promise<never> {
  new Logger(JobRepository.name).warn(
    `HOLD_COMMIT_AFTER_RECORD: version ${c.version} of job ${c.jobId} is recorded; holding before its partitions move`,
  );
  return new Promise<never>(() => undefined);
}

function stagedMissing(jobId: string, version: number, fence: number): JobDataMissingError {
  return new JobDataMissingError(
    `version ${version} of job ${jobId}, staged under fencing token ${fence}, is gone from Redis ` +
      '(expired, or Redis lost it): resume the job to compute the step again',
  );
}
