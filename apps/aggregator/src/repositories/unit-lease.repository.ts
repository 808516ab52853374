import { RedisKeys } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';

/** Takes a free lease with the next epoch; 0 when another service holds it. Lease and epoch share a slot. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', ARGV[2])
return epoch
`;

/** Extends a lease that still holds this service's value. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** Drops a lease that still holds this service's value. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * The fenced leases on a job's units (see PartitionKeys.unitLease): SET NX PX with an epoch from
 * INCR, so that a service that lost its lease (paused, cut off) is told apart from the one that
 * holds it now by the epoch every push and durable write carries.
 */
export class UnitLeaseRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** The epoch of the lease taken, or null when another service holds it. */
  async acquire(
    jobId: string,
    unit: number,
    units: number,
    serviceId: string,
    leaseMs: number,
  ): Promise<number | null> {
    const k = this.keys.partition(unit, units);
    const epoch = Number(
      await this.redis.eval(ACQUIRE, 2, k.unitLease(jobId), k.unitEpoch(jobId), serviceId, String(leaseMs)),
    );
    return epoch > 0 ? epoch : null;
  }

  /** False when the lease is no longer this service's at this epoch. */
  async renew(
    jobId: string,
    unit: number,
    units: number,
    serviceId: string,
    epoch: number,
    leaseMs: number,
  ): Promise<boolean> {
    const k = this.keys.partition(unit, units);
    return (
      (await this.redis.eval(RENEW, 1, k.unitLease(jobId), `${serviceId} ${epoch}`, String(leaseMs))) === 1
    );
  }

  async release(jobId: string, unit: number, units: number, serviceId: string, epoch: number): Promise<void> {
    const k = this.keys.partition(unit, units);
    await this.redis.eval(RELEASE, 1, k.unitLease(jobId), `${serviceId} ${epoch}`);
  }
}
