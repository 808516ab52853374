import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { TrainingModule } from '../training/training.module';
import { WorkersModule } from '../workers/workers.module';
import { JobSpecFactory } from './job-spec.factory';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [RepositoriesModule, TrainingModule, CheckpointsModule, WorkersModule],
  controllers: [JobsController],
  providers: [JobsService, JobSpecFactory],
  exports: [JobsService],
})
export class JobsModule {}
