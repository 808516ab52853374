import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BlobConnection, RedisKeys } from '@resnet/protocol';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';

export const REDIS = Symbol('REDIS');
/** A BlobConnection: weights versions and gradient messages, moved without copies. */
export const BLOBS = Symbol('BLOBS');

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [COORDINATOR_CONFIG],
      // BullMQ needs maxRetriesPerRequest: null so that commands wait out a reconnect.
      useFactory: (config: CoordinatorConfig) => {
        const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
        // ioredis reconnects with backoff by itself; say so once per outage instead of on every retry.
        let down = false;
        redis.on('error', (err) => {
          if (!down) new Logger('Redis').warn(`connection lost (${err.message}); reconnecting`);
          down = true;
        });
        redis.on('ready', () => {
          if (down) new Logger('Redis').log('reconnected');
          down = false;
        });
        return redis;
      },
    },
    {
      provide: BLOBS,
      inject: [COORDINATOR_CONFIG],
      useFactory: (config: CoordinatorConfig) => BlobConnection.open(config.redisUrl),
    },
    {
      provide: RedisKeys,
      inject: [COORDINATOR_CONFIG],
      useFactory: (config: CoordinatorConfig) => new RedisKeys(config.redisPrefix),
    },
  ],
  exports: [REDIS, BLOBS, RedisKeys],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BLOBS) private readonly blobs: BlobConnection,
  ) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.blobs.close();
  }
}
