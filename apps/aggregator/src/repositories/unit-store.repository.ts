import { RedisKeys, StepReport } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { RedisClient } from '@resnet/redis-connections';

/**
 * Writes a unit's weights version and momentum as durable, frees the version two before it (the
 * one before stays, for a rollback), and records the version, only while the lease still holds
 * this service's epoch: a service that lost its lease writes nothing. All keys share the unit's slot.
 */
const WRITE_DURABLE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4])
redis.call('SET', KEYS[4], ARGV[2])
redis.call('UNLINK', KEYS[5], KEYS[6])
return 1
`;

/** A unit's durable state: the version, its weights message and its momentum message. */
export interface DurableUnit {
  readonly version: number;
  readonly weights: Buffer;
  readonly momentum: Buffer;
}

/**
 * Job specs, units' durable weights and momentum (the job's partition keys, with one partition per
 * unit, where the coordinator wrote version 0 or a checkpoint's), and the services' step reports.
 */
export class UnitStoreRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async jobSpec(jobId: string): Promise<TrainingJobSpec | null> {
    const raw = await this.redis.hget(this.keys.job(jobId), 'spec');
    return raw ? (JSON.parse(raw) as TrainingJobSpec) : null;
  }

  /**
   * The unit's durable state at `version`, by default its last durable one. Before any service
   * wrote one, that is the job's own (version 0, or a restored checkpoint's), whose momentum the
   * coordinator wrote under momentum(id).
   */
  async restore(jobId: string, unit: number, units: number, at?: number): Promise<DurableUnit> {
    const k = this.keys.partition(unit, units);
    const [durable, step] = await Promise.all([
      this.redis.get(k.unitDurable(jobId)),
      this.redis.hget(this.keys.job(jobId), 'step'),
    ]);
    const version = at ?? Number(durable ?? step ?? 0);
    const [weights, momentum] = await Promise.all([
      this.redis.getBuffer(k.weights(jobId, version)),
      this.redis
        .getBuffer(k.momentumAt(jobId, version))
        .then((m) => m ?? this.redis.getBuffer(k.momentum(jobId))),
    ]);
    if (!weights || !momentum)
      throw new Error(`unit ${unit} of job ${jobId} has no durable version ${version} in Redis`);
    return { version, weights, momentum };
  }

  /** False when the lease is no longer `leaseValue`: nothing was written. */
  async writeDurable(
    jobId: string,
    unit: number,
    units: number,
    leaseValue: string,
    state: DurableUnit,
  ): Promise<boolean> {
    const k = this.keys.partition(unit, units);
    const written = await this.redis.eval(
      WRITE_DURABLE,
      6,
      k.unitLease(jobId),
      k.weights(jobId, state.version),
      k.momentumAt(jobId, state.version),
      k.unitDurable(jobId),
      k.weights(jobId, state.version - 2),
      k.momentumAt(jobId, state.version - 2),
      leaseValue,
      String(state.version),
      state.weights,
      state.momentum,
    );
    return written === 1;
  }

  async pushReport(jobId: string, report: StepReport): Promise<void> {
    const key = this.keys.stepReports(jobId, report.step, report.attempt);
    // Reports of a step nobody reads any more expire.
    await this.redis.multi().rpush(key, JSON.stringify(report)).expire(key, 3600).exec();
  }
}
