import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { WorkersModule } from '../workers/workers.module';
import { DashboardEventsService } from './dashboard-events.service';
import { DashboardController } from './dashboard.controller';
import { StepMetricsReader } from './step-metrics.reader';

/** The live feed behind the web dashboard; its static files are served by serveDashboard(). */
@Module({
  imports: [JobsModule, WorkersModule],
  controllers: [DashboardController],
  providers: [DashboardEventsService, StepMetricsReader],
})
export class DashboardModule {}
