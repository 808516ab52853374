import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LeadershipModule } from '../leadership/leadership.module';
import { RepositoriesModule } from '../repositories/repositories.module';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis.health';

@Module({
  // Terminus logs a failed check itself; the 503 body already names it, so once per probe is noise.
  imports: [RepositoriesModule, LeadershipModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
