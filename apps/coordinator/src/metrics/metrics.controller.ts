import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { contentType } from 'prom-client';
import { MetricsService } from './metrics.service';

@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('content-type', contentType)
  @ApiOperation({
    summary:
      'Prometheus metrics: step time, throughput, loss, gradient bytes per job; shard queue and workers',
  })
  @ApiProduces(contentType)
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  text(): Promise<string> {
    return this.metrics.text();
  }
}
