import { Controller, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { DashboardEventsService } from './dashboard-events.service';
import { EventsQueryDto } from './dto/events-query.dto';

@ApiTags('dashboard')
@Controller()
export class DashboardController {
  constructor(private readonly events: DashboardEventsService) {}

  @Sse('events')
  @ApiOperation({
    summary: 'Server-Sent Events for live views',
    description:
      'Event types: `jobs` (job summaries with loss, mean images/s and ETA), `workers`, and `preparing` ' +
      '(datasets being decoded for submitted jobs, with images done and total) when they change, ' +
      '`problem` ({ message }, null once resolved) when the cluster state cannot be read, and with ?job=ID ' +
      '`metrics` ({ jobId, reset, steps, evals }: all entries first, with reset true, then only new ones).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An endless text/event-stream', schema: { type: 'string' } })
  @ApiBadRequestResponse({ description: '`job` is not a job id' })
  stream(@Query() query: EventsQueryDto): Observable<MessageEvent> {
    return this.events.stream(query.job);
  }
}
