import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys, WorkerInfo } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';
import { REDIS } from './redis.providers';

/** Redis I/O about workers: their heartbeats, their rejected results and the quarantine list. */
@Injectable()
export class WorkerRegistryRepository {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async heartbeats(): Promise<WorkerInfo[]> {
    const entries = await this.redis.hgetall(this.keys.workerIndex());
    return Object.values(entries).map((raw) => JSON.parse(raw) as WorkerInfo);
  }

  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.redis.hdel(this.keys.workerIndex(), ...ids);
  }

  /** Records a rejected result and returns how many the worker had within the last `windowMs`, this one included. */
  async countFault(workerId: string, windowMs: number, now = Date.now()): Promise<number> {
    const key = this.keys.workerFaults(workerId);
    const results = await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', now - windowMs)
      .zadd(key, now, `${now}:${randomUUID()}`)
      .zcard(key)
      .pexpire(key, windowMs)
      .exec();
    const [err, count] = results![2];
    if (err) throw err;
    return count as number;
  }

  /** Lifts the worker's quarantine and forgets its faults; false when it was not quarantined. */
  async release(workerId: string): Promise<boolean> {
    const results = await this.redis
      .multi()
      .srem(this.keys.quarantine(), workerId)
      .del(this.keys.workerFaults(workerId))
      .exec();
    const [err, removed] = results![0];
    if (err) throw err;
    return removed === 1;
  }

  async quarantine(workerId: string): Promise<void> {
    await this.redis.sadd(this.keys.quarantine(), workerId);
  }

  async quarantined(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.quarantine()));
  }
}
