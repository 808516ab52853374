import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { SHARD_QUEUE } from '@resnet/protocol';
import { WorkersModule } from '../workers/workers.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Global so that the training service can report each step without its module importing this one. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: SHARD_QUEUE }), WorkersModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
