import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { WorkersModule } from '../workers/workers.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Module({
  imports: [RepositoriesModule, WorkersModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
