import { Logger, Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys } from '@resnet/protocol';
import { BlobConnection } from '@resnet/redis-blobs';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { logOutages } from './redis-outages';

export const REDIS = Symbol('REDIS');
/** A BlobConnection: weights versions and gradient messages, moved without copies. */
export const BLOBS = Symbol('BLOBS');

/** The coordinator's shared Redis connections and its key names. */
export const redisProviders: Provider[] = [
  {
    provide: REDIS,
    inject: [COORDINATOR_CONFIG],
    // BullMQ needs maxRetriesPerRequest: null so that commands wait out a reconnect.
    useFactory: (config: CoordinatorConfig) => {
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
      logOutages(redis, 'Redis connection', new Logger('Redis'));
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
];
