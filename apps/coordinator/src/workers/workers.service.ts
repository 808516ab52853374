import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys, WorkerInfo } from '@resnet/protocol';
import { REDIS } from '../redis/redis.module';

/** A worker that has not sent a heartbeat for this long is shown as gone. */
const ALIVE_WITHIN_MS = 15_000;
/** Gone workers stay listed this long, so a crash is visible, then are forgotten. */
const FORGET_AFTER_MS = 3600_000;

export interface WorkerView extends WorkerInfo {
  readonly alive: boolean;
}

@Injectable()
export class WorkersService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async list(now = Date.now()): Promise<WorkerView[]> {
    const entries = await this.redis.hgetall(this.keys.workerIndex());
    const workers = Object.values(entries).map((raw) => JSON.parse(raw) as WorkerInfo);
    const stale = workers.filter((w) => now - w.lastSeen > FORGET_AFTER_MS).map((w) => w.id);
    if (stale.length) await this.redis.hdel(this.keys.workerIndex(), ...stale);
    return workers
      .filter((w) => !stale.includes(w.id))
      .map((w) => ({ ...w, alive: now - w.lastSeen <= ALIVE_WITHIN_MS }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }
}
