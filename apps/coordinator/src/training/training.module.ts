import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module';
import { LeadershipModule } from '../leadership/leadership.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { WorkersModule } from '../workers/workers.module';
import { StepWorkspaces } from './aggregation/step-workspaces';
import { ServicesStepRunner } from './services-step-runner';
import { StepRunner } from './step-runner';
import { TrainingService } from './training.service';

@Module({
  imports: [RepositoriesModule, WorkersModule, MetricsModule, CheckpointsModule, LeadershipModule],
  providers: [TrainingService, StepRunner, ServicesStepRunner, StepWorkspaces],
  exports: [TrainingService],
})
export class TrainingModule {}
