import { Inject, Logger, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { RedisKeys } from '@resnet/protocol';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { logOutages } from './redis-outages';

/** The coordinator's shared ioredis client (a RedisClient: one Redis or a Redis Cluster). */
export const REDIS = Symbol('REDIS');
/** A BlobStore: weights versions and gradient messages, moved without copies. */
export const BLOBS = Symbol('BLOBS');

/** The coordinator's shared Redis connections and its key names, all opened by RedisConnections. */
const redisProviders: Provider[] = [
  {
    provide: RedisConnections,
    inject: [COORDINATOR_CONFIG],
    useFactory: (config: CoordinatorConfig) => RedisConnections.fromUrl(config.redisUrl, config.redisPrefix),
  },
  {
    provide: REDIS,
    inject: [RedisConnections],
    useFactory: async (connections: RedisConnections) => {
      await connections.checkKind();
      const redis = connections.client();
      logOutages(redis, 'Redis connection', new Logger('Redis'));
      return redis;
    },
  },
  {
    provide: BLOBS,
    inject: [RedisConnections],
    useFactory: (connections: RedisConnections) => connections.blobs(),
  },
  {
    provide: RedisKeys,
    inject: [RedisConnections],
    useFactory: (connections: RedisConnections) => connections.keys(),
  },
];

/** Opens the connections to Redis at start-up and closes them at shutdown. */
@Module({
  providers: redisProviders,
  exports: [RedisConnections, REDIS, BLOBS, RedisKeys],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BLOBS) private readonly blobs: BlobStore,
  ) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.blobs.close();
  }
}
