import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { SHARD_QUEUE } from '@resnet/protocol';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { CheckpointStore } from '../checkpoints/checkpoint.store';
import { JobRepository } from '../jobs/job.repository';
import { WorkersModule } from '../workers/workers.module';
import { ShardDispatcher } from './shard-dispatcher';
import { TrainingService } from './training.service';

@Module({
  imports: [BullModule.registerQueue({ name: SHARD_QUEUE }), WorkersModule],
  providers: [TrainingService, ShardDispatcher, JobRepository, CheckpointStore, CheckpointService],
  exports: [TrainingService, JobRepository, CheckpointService],
})
export class TrainingModule {}
