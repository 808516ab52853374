import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EvalMetrics, JOB_STATUSES, JobMetrics, JobStatus, StepMetrics } from '@resnet/protocol';
import { JobView, TrainingJobSpec } from '@resnet/job';

// Response shapes, as classes only so that OpenAPI can describe them; `implements` keeps them in
// step with the interfaces the services return.

export class JobViewDto implements JobView {
  @ApiProperty({ example: '3f9c2a1b' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({
    type: 'integer',
    description: 'Optimizer steps applied so far (the current weights version)',
  })
  step!: number;
  @ApiProperty({ type: 'integer' }) totalSteps!: number;
  @ApiProperty({ description: 'Epochs done, fractional' }) epoch!: number;
  @ApiProperty({ minimum: 0, maximum: 1 }) progress!: number;
  @ApiProperty({ description: 'Milliseconds since the epoch' }) createdAt!: number;
  @ApiProperty({ description: 'Milliseconds since the epoch' }) updatedAt!: number;
  @ApiPropertyOptional({ description: 'Why the job failed' }) error?: string;
  @ApiProperty({ type: 'integer', description: 'Higher priorities start first and preempt lower ones' })
  priority!: number;
  @ApiProperty({ type: 'integer', description: 'Share of the workers against other running jobs' })
  weight!: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'While queued: 1 for the job that starts next (MAX_CONCURRENT_JOBS run at once)',
  })
  queuePosition?: number;
  @ApiPropertyOptional({
    description: 'While queued or running: why no worker can take its shards (all quarantined or gone)',
  })
  workersUnavailable?: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The job as it runs: the request with every default and every value derived from the dataset filled in',
  })
  spec!: TrainingJobSpec;
}

export class StepMetricsDto implements StepMetrics {
  @ApiProperty({ type: 'integer' }) step!: number;
  @ApiProperty() epoch!: number;
  @ApiProperty({ description: 'Mean training loss of the step' }) loss!: number;
  @ApiProperty({ minimum: 0, maximum: 1 }) accuracy!: number;
  @ApiProperty() lr!: number;
  @ApiProperty() imagesPerSecond!: number;
  @ApiProperty({ description: 'Step wall time up to the new weights' }) stepMs!: number;
  @ApiProperty({ description: 'From enqueueing the shards until the last result arrived' }) waitMs!: number;
  @ApiProperty({ description: 'The slowest shard’s own compute time' }) slowestShardMs!: number;
  @ApiProperty({ description: 'Milliseconds since the epoch' }) at!: number;
  @ApiPropertyOptional({ description: 'Putting the step’s shards on the queue, ms' }) enqueueMs?: number;
  @ApiPropertyOptional({ description: 'Longest wait of a shard for its weights version, ms' })
  weightFetchMs?: number;
  @ApiPropertyOptional({ description: 'Longest gradient encode and store of a shard, ms' }) uploadMs?: number;
  @ApiPropertyOptional({ description: 'From the step’s start until the last shard’s result arrived, ms' })
  lastArrivalMs?: number;
  @ApiPropertyOptional({
    description: 'Coordinator time checking and folding gradients, summed over shards, ms',
  })
  aggregateMs?: number;
  @ApiPropertyOptional({ description: 'Averaging, SGD update and checks, ms' }) optimizerMs?: number;
  @ApiPropertyOptional({ description: 'Encoding and committing the weights this step started from, ms' })
  publishMs?: number;
  @ApiPropertyOptional({ description: 'Bytes of gradient messages the step used' }) gradientBytes?: number;
}

export class EvalMetricsDto implements EvalMetrics {
  @ApiProperty({ type: 'integer' }) step!: number;
  @ApiProperty() epoch!: number;
  @ApiProperty({ description: 'Mean test loss' }) loss!: number;
  @ApiProperty({ minimum: 0, maximum: 1 }) accuracy!: number;
  @ApiProperty({ minimum: 0, maximum: 1, description: 'Top-5 accuracy (1 with at most 5 classes)' })
  top5!: number;
  @ApiProperty({ type: 'integer', description: 'Test images evaluated' }) count!: number;
  @ApiProperty({ description: 'Milliseconds since the epoch' }) at!: number;
}

export class JobMetricsDto implements JobMetrics {
  @ApiProperty({ type: [StepMetricsDto] }) steps!: StepMetricsDto[];
  @ApiProperty({ type: [EvalMetricsDto] }) evals!: EvalMetricsDto[];
}
