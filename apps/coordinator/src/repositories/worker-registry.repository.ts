import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys, WorkerInfo } from '@resnet/protocol';
import { REDIS } from './redis.providers';

/** Redis I/O about workers: their heartbeats, their rejected results and the quarantine list. */
@Injectable()
export class WorkerRegistryRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async heartbeats(): Promise<WorkerInfo[]> {
    const entries = await this.redis.hgetall(this.keys.workerIndex());
    return Object.values(entries).map((raw) => JSON.parse(raw) as WorkerInfo);
  }

  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.redis.hdel(this.keys.workerIndex(), ...ids);
  }

  /** Returns the worker's count of rejected results, this one included. */
  async countFault(workerId: string): Promise<number> {
    return this.redis.hincrby(this.keys.workerFaults(), workerId, 1);
  }

  async quarantine(workerId: string): Promise<void> {
    await this.redis.sadd(this.keys.quarantine(), workerId);
  }

  async quarantined(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.quarantine()));
  }

  async isQuarantined(workerId: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.quarantine(), workerId)) === 1;
  }
}
