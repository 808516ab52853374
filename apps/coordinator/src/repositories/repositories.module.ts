import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys, SHARD_QUEUE } from '@resnet/protocol';
import { BlobConnection } from '@resnet/redis-blobs';
import { CheckpointStore } from './checkpoint.store';
import { FencedWriter } from './fenced-writer';
import { JobRepository } from './job.repository';
import { LeaderLeaseRepository } from './leader-lease.repository';
import { BLOBS, REDIS, redisProviders } from './redis.providers';
import { ShardDispatcher } from './shard-dispatcher';
import { ShardShares } from './shard-shares';
import { StepMetricsReader } from './step-metrics.reader';
import { WorkerRegistryRepository } from './worker-registry.repository';

const shardQueue = BullModule.registerQueue({ name: SHARD_QUEUE });

/** The adapters the feature folders use; FencedWriter serves JobRepository only. */
const repositories = [
  JobRepository,
  LeaderLeaseRepository,
  WorkerRegistryRepository,
  CheckpointStore,
  StepMetricsReader,
  ShardShares,
  ShardDispatcher,
];

/**
 * Every adapter to Redis, BullMQ and the checkpoint disk: the layer the feature folders stand on.
 * Nothing here imports a feature folder.
 */
@Module({
  imports: [shardQueue],
  providers: [...redisProviders, FencedWriter, ...repositories],
  exports: [shardQueue, REDIS, BLOBS, RedisKeys, ...repositories],
})
export class RepositoriesModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BLOBS) private readonly blobs: BlobConnection,
  ) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.blobs.close();
  }
}
