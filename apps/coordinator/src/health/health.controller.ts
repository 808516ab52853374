import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult } from '@nestjs/terminus';
import { LeadershipService } from '../leadership/leadership.service';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('observability')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly leadership: LeadershipService,
  ) {}

  /**
   * The coordinator is useless without Redis: every job, step and shard lives there. A follower is
   * as ready as the leader (it serves the API), so `leadership` only says who leads.
   */
  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: 200 when Redis answers, 503 naming the failed check otherwise; `leadership` names this coordinator and the leader',
  })
  ready() {
    return this.health.check([() => this.redis.ping(), () => this.leader()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness (same as GET /health), for probes that want an explicit path' })
  readyAlias() {
    return this.ready();
  }

  /** Up either way: who leads is information, and the Redis check covers the lease's store. */
  private leader(): HealthIndicatorResult {
    return { leadership: { status: 'up', ...this.leadership.view() } };
  }

  /** Liveness checks nothing outside the process, so that a Redis outage does not get the coordinator restarted. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP' })
  live() {
    return this.health.check([]);
  }
}
