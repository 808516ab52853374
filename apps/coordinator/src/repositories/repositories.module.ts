import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { PRECISIONS, shardQueueFor } from '@resnet/protocol';
import { CheckpointStore } from './checkpoint.store';
import { FencedWriter } from './fenced-writer';
import { JobRepository } from './job.repository';
import { LeaderLeaseRepository } from './leader-lease.repository';
import { RedisModule } from './redis.providers';
import { ShardQueue } from './shard-queue';
import { StepMetricsReader } from './step-metrics.reader';
import { SummationServicesRepository } from './summation-services.repository';
import { WorkerRegistryRepository } from './worker-registry.repository';

/** A shard queue per precision: only the workers that compute a precision consume its queue. */
const shardQueue = BullModule.registerQueue(
  ...PRECISIONS.map((precision) => ({ name: shardQueueFor(precision) })),
);

/** The adapters the feature folders use; FencedWriter serves JobRepository only. */
const repositories = [
  JobRepository,
  LeaderLeaseRepository,
  WorkerRegistryRepository,
  CheckpointStore,
  StepMetricsReader,
  ShardQueue,
  SummationServicesRepository,
];

/**
 * Every adapter to Redis, BullMQ and the checkpoint disk: the layer the feature folders stand on.
 * Nothing here imports a feature folder.
 */
@Module({
  imports: [RedisModule, shardQueue],
  providers: [FencedWriter, ...repositories],
  exports: [RedisModule, shardQueue, ...repositories],
})
export class RepositoriesModule {}
