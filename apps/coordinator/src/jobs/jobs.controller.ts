import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
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

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Submit a training job; it starts at once' })
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

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a queued, running or paused job for good' })
  @ApiOkResponse({ type: JobViewDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The job has already ended' })
  cancel(@Param('id') id: string) {
    return this.jobs.cancel(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a running job after its last committed step, keeping it resumable' })
  @ApiOkResponse({ type: JobViewDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The job is not queued or running' })
  pause(@Param('id') id: string) {
    return this.jobs.pause(id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Continue a paused job from its last committed step' })
  @ApiOkResponse({ type: JobViewDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The job is not paused' })
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
