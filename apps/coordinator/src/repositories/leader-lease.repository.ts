import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';
import { REDIS } from './redis.providers';

/** Takes the lease if free, and then a fencing token one above the last leader's; else names the holder. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
return redis.call('GET', KEYS[1])
`;

/** What trying to take the lease gave: a fencing token, or the coordinator that holds it. */
export type LeaseAttempt = { readonly token: number } | { readonly holder: string };

/** Extends the lease only while this coordinator holds it under the current token. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** The leader's lease and fencing token in Redis (see RedisKeys.leaderLease and leaderToken). */
@Injectable()
export class LeaderLeaseRepository {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(coordinatorId: string, leaseMs: number): Promise<LeaseAttempt> {
    const result = await this.redis.eval(
      ACQUIRE,
      2,
      this.keys.leaderLease(),
      this.keys.leaderToken(),
      coordinatorId,
      String(leaseMs),
    );
    return typeof result === 'number' ? { token: result } : { holder: String(result) };
  }

  /** False when the lease was lost: it expired, or another coordinator has taken it since. */
  async renew(coordinatorId: string, token: number, leaseMs: number): Promise<boolean> {
    const renewed = await this.redis.eval(
      RENEW,
      2,
      this.keys.leaderLease(),
      this.keys.leaderToken(),
      coordinatorId,
      String(token),
      String(leaseMs),
    );
    return renewed === 1;
  }

  /** Frees the lease at once (a clean shutdown), so that a follower need not wait for it to expire. */
  async release(coordinatorId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keys.leaderLease(), coordinatorId);
  }
}
