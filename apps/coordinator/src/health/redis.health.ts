import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisClient } from '@resnet/redis-connections';
import { readWhileRedisAnswers } from '../repositories/redis-availability';
import { REDIS } from '../repositories/redis.providers';

/** Up when the coordinator's Redis connection answers PING in time. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly health: HealthIndicatorService,
  ) {}

  async ping(key = 'redis', timeoutMs = 1000): Promise<HealthIndicatorResult> {
    const check = this.health.check(key);
    const started = performance.now();
    try {
      await readWhileRedisAnswers(this.redis, () => this.redis.ping(), timeoutMs);
      return check.up({ latencyMs: Math.round((performance.now() - started) * 10) / 10 });
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}
