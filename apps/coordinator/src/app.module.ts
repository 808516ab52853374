import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { COORDINATOR_CONFIG, CoordinatorConfig } from './coordinator.config';
import { JobsModule } from './jobs/jobs.module';
import { RedisModule } from './redis/redis.module';
import { WorkersModule } from './workers/workers.module';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: COORDINATOR_CONFIG, useValue: config }], exports: [COORDINATOR_CONFIG] };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        BullModule.forRoot({
          connection: { url: config.redisUrl, maxRetriesPerRequest: null },
          prefix: config.redisPrefix,
        }),
        JobsModule,
        WorkersModule,
      ],
    };
  }
}
