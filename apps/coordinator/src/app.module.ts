import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { COORDINATOR_CONFIG, CoordinatorConfig } from './coordinator.config';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModelsModule } from './models/models.module';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { REDIS, RedisModule } from './repositories/redis.providers';
import {
  SHARD_DISPATCHER_OPTIONS,
  ShardDispatcherOptions,
  shardDispatcherOptions,
} from './training/dispatch/shard-dispatcher.options';
import { WorkersModule } from './workers/workers.module';

/** What code (a test, a benchmark) may tune beyond the environment's CoordinatorConfig. */
export interface CoordinatorTuning {
  /**
   * Merged over SHARD_DISPATCHER_DEFAULTS and checked by the ShardDispatcher.
   * @defaultValue {}
   */
  readonly shardDispatcher?: Partial<ShardDispatcherOptions>;
}

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: CoordinatorConfig, tuning: CoordinatorTuning): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: COORDINATOR_CONFIG, useValue: config },
        { provide: SHARD_DISPATCHER_OPTIONS, useValue: tuning.shardDispatcher ?? {} },
      ],
      exports: [COORDINATOR_CONFIG, SHARD_DISPATCHER_OPTIONS],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: CoordinatorConfig, tuning: CoordinatorTuning = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, tuning),
        BullModule.forRootAsync({
          imports: [RedisModule],
          inject: [RedisConnections, REDIS],
          useFactory: (connections: RedisConnections, redis: RedisClient) => ({
            connection: connections.bullConnection(redis),
            prefix: connections.prefix,
            streams: { events: { maxLen: shardDispatcherOptions(tuning.shardDispatcher).queueEventsKept } },
          }),
        }),
        LoggingModule,
        MetricsModule,
        JobsModule,
        ModelsModule,
        WorkersModule,
        DashboardModule,
        QueueBoardModule,
        HealthModule,
      ],
    };
  }
}
