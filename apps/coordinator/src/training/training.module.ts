import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { SHARD_QUEUE } from '@resnet/protocol';
import { JobRepository } from '../jobs/job.repository';
import { WorkersModule } from '../workers/workers.module';
import { ShardDispatcher } from './shard-dispatcher';
import { TrainingService } from './training.service';

@Module({
  imports: [BullModule.registerQueue({ name: SHARD_QUEUE }), WorkersModule],
  providers: [TrainingService, ShardDispatcher, JobRepository],
  exports: [TrainingService, JobRepository],
})
export class TrainingModule {}
