import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module';
import { LeadershipModule } from '../leadership/leadership.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { WorkersModule } from '../workers/workers.module';
import { StepWorkspaceFactory } from './aggregation/step-workspace.factory';
import { ShardDispatcher } from './dispatch/shard-dispatcher';
import { ShardShares } from './dispatch/shard-shares';
import { ServicesStepRunner } from './services-step-runner';
import { StepRunner } from './step-runner';
import { TrainingService } from './training.service';

@Module({
  imports: [RepositoriesModule, WorkersModule, MetricsModule, CheckpointsModule, LeadershipModule],
  providers: [
    TrainingService,
    StepRunner,
    ServicesStepRunner,
    StepWorkspaceFactory,
    ShardShares,
    ShardDispatcher,
  ],
  exports: [TrainingService],
})
export class TrainingModule {}
