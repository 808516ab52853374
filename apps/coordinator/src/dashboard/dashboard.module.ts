import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { WorkersModule } from '../workers/workers.module';
import { DashboardEventsService } from './dashboard-events.service';
import { DashboardController } from './dashboard.controller';

/** The live feed behind the web dashboard; its static files are served by serveDashboard(). */
@Module({
  imports: [RepositoriesModule, JobsModule, WorkersModule],
  controllers: [DashboardController],
  providers: [DashboardEventsService],
})
export class DashboardModule {}
