import { Module } from '@nestjs/common';
import { TrainingModule } from '../training/training.module';
import { JobSpecFactory } from './job-spec.factory';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [TrainingModule],
  controllers: [JobsController],
  providers: [JobsService, JobSpecFactory],
  exports: [JobsService],
})
export class JobsModule {}
