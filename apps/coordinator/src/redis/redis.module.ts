import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys } from '@resnet/protocol';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';

export const REDIS = Symbol('REDIS');

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [COORDINATOR_CONFIG],
      // BullMQ needs maxRetriesPerRequest: null so that commands wait out a reconnect.
      useFactory: (config: CoordinatorConfig) => new Redis(config.redisUrl, { maxRetriesPerRequest: null }),
    },
    {
      provide: RedisKeys,
      inject: [COORDINATOR_CONFIG],
      useFactory: (config: CoordinatorConfig) => new RedisKeys(config.redisPrefix),
    },
  ],
  exports: [REDIS, RedisKeys],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
