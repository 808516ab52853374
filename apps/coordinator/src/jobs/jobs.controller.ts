import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CreateJobDto } from './dto/create-job.dto';
import { RestoreJobDto } from './dto/restore-job.dto';
import { JobMetricsDto, JobViewDto } from './dto/job-view.dto';
import { JobsService } from './jobs.service';

/** POST /jobs/:id/<action>: answers the job, 404 for an unknown id, 409 when the job's state forbids it. */
function JobAction(action: string, summary: string, conflict: string): MethodDecorator {
  return applyDecorators(
    Post(`:id/${action}`),
    HttpCode(200),
    ApiOperation({ summary }),
    ApiOkResponse({ type: JobViewDto }),
    ApiNotFoundResponse(),
    ApiConflictResponse({ description: conflict }),
  );
}

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({
    summary: 'Submit a training job; it starts when MAX_CONCURRENT_JOBS and the queue by priority allow',
  })
  @ApiCreatedResponse({ type: JobViewDto })
  @ApiBadRequestResponse({ description: 'The request or its dataset is invalid; `message` lists why' })
  create(@Body() dto: CreateJobDto) {
    return this.jobs.create(dto);
  }

  @Post('restore')
  @ApiOperation({ summary: 'Bring a job back from a disk checkpoint (after Redis lost it) and resume it' })
  @ApiCreatedResponse({ type: JobViewDto })
  @ApiBadRequestResponse({ description: 'The checkpoint path is malformed or cannot be read' })
  @ApiConflictResponse({ description: 'Redis still holds that job' })
  restore(@Body() dto: RestoreJobDto) {
    return this.jobs.restore(dto.checkpoint);
  }

  @Get()
  @ApiOperation({ summary: 'All jobs, newest first' })
  @ApiOkResponse({ type: [JobViewDto] })
  list() {
    return this.jobs.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job: its state, progress and complete spec' })
  @ApiOkResponse({ type: JobViewDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string) {
    return this.jobs.get(id);
  }

  @JobAction('cancel', 'Stop a queued, running or paused job for good', 'The job has already ended')
  cancel(@Param('id') id: string) {
    return this.jobs.cancel(id);
  }

  @JobAction(
    'pause',
    'Stop a running job after its last committed step, keeping it resumable',
    'The job is not queued or running',
  )
  pause(@Param('id') id: string) {
    return this.jobs.pause(id);
  }

  @JobAction(
    'resume',
    'Continue a paused or failed job from its last committed step',
    'The job is not paused or failed',
  )
  resume(@Param('id') id: string) {
    return this.jobs.resume(id);
  }

  @Get(':id/metrics')
  @ApiOperation({ summary: 'Per-step training metrics and test evaluations' })
  @ApiOkResponse({ type: JobMetricsDto })
  @ApiNotFoundResponse()
  metrics(@Param('id') id: string) {
    return this.jobs.metrics(id);
  }
}
