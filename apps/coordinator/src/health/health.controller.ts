import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('observability')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** The coordinator is useless without Redis: every job, step and shard lives there. */
  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: 200 when Redis answers, 503 naming the failed check otherwise' })
  ready() {
    return this.health.check([() => this.redis.ping()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness (same as GET /health), for probes that want an explicit path' })
  readyAlias() {
    return this.ready();
  }

  /** Liveness checks nothing outside the process, so that a Redis outage does not get the coordinator restarted. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP' })
  live() {
    return this.health.check([]);
  }
}
