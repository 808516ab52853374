import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { TrainingModule } from '../training/training.module';
import { WorkersModule } from '../workers/workers.module';
import { DatasetPreparations } from './dataset-preparations';
import { JobSpecFactory } from './job-spec.factory';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { PreparationConsole } from './preparation-console';

@Module({
  imports: [RepositoriesModule, TrainingModule, CheckpointsModule, WorkersModule],
  controllers: [JobsController],
  providers: [JobsService, JobSpecFactory, DatasetPreparations, PreparationConsole],
  exports: [JobsService, DatasetPreparations],
})
export class JobsModule {}
