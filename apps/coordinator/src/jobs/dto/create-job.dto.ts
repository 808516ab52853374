import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MODEL_NAMES, ModelName, ShortcutKind } from '@resnet/model';
import { Precision, PRECISIONS, TENSOR_DTYPES, TensorDtype } from '@resnet/protocol';
import { AggregationPlace } from '@resnet/job';
import { Bool, Int, Num, OneOf } from '../../validation';
import { JOB_DEFAULTS, SYNTHETIC_DEFAULTS } from '../job-defaults';

// File system calls refuse NUL (ERR_INVALID_ARG_VALUE); other control characters are no file name
// anyone means to send.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const PATH_CHARACTERS = /^[^\x00-\x1f\x7f]*$/;

const DATASET_KINDS = ['synthetic', 'folder', 'imagenet-folder'] as const;
const DECAYS = ['constant', 'step', 'cosine'] as const;
const SHORTCUTS = ['projection', 'zero-pad'] as const satisfies readonly ShortcutKind[];
const AGGREGATION_PLACES = ['coordinator', 'services'] as const satisfies readonly AggregationPlace[];

export class DatasetDto {
  @ApiProperty({
    enum: DATASET_KINDS,
    description:
      'Generated images; a folder of images under DATA_ROOT decoded into memory (CIFAR-sized); or an ImageNet-style ' +
      'folder (train/ and val/ of class folders) decoded batch by batch with random-resized crops',
  })
  @IsIn(DATASET_KINDS)
  kind!: (typeof DATASET_KINDS)[number];

  /** Folder or .tar.gz archive relative to the coordinator's and workers' DATA_ROOT. */
  @ApiPropertyOptional({
    maxLength: 500,
    description:
      'Folder (or, for kind folder, .tar.gz archive) relative to DATA_ROOT; required unless synthetic',
    example: 'cifar10',
  })
  @ValidateIf((d: DatasetDto) => d.kind !== 'synthetic')
  @IsString()
  @MaxLength(500)
  @Matches(PATH_CHARACTERS, {
    message:
      '$property must not contain NUL or other control characters; give a plain path relative to DATA_ROOT',
  })
  path?: string;

  @Int({
    min: 1,
    max: 1_000_000,
    default: SYNTHETIC_DEFAULTS.trainSize,
    description: 'Synthetic: training images',
  })
  trainSize?: number;
  @Int({
    min: 1,
    max: 1_000_000,
    default: SYNTHETIC_DEFAULTS.testSize,
    description: 'Synthetic: test images',
  })
  testSize?: number;
  @Int({
    min: 8,
    max: 256,
    description: `Synthetic (default ${SYNTHETIC_DEFAULTS.imageSize}) and imagenet-folder (default 224): image side in pixels`,
  })
  imageSize?: number;
  @Int({ min: 2, max: 1000, default: SYNTHETIC_DEFAULTS.numClasses, description: 'Synthetic: classes' })
  numClasses?: number;
  @Int({ min: 0, default: SYNTHETIC_DEFAULTS.seed, description: 'Synthetic: generator seed' })
  seed?: number;
}

export class ScheduleDto {
  @OneOf(DECAYS, { default: JOB_DEFAULTS.decay })
  decay?: (typeof DECAYS)[number];
  @Num({
    min: 0,
    default: JOB_DEFAULTS.warmupEpochs,
    description: 'Linear warmup length in epochs (fractions allowed)',
  })
  warmupEpochs?: number;
  @ApiPropertyOptional({
    type: [Number],
    description: 'Step decay: epochs at which the rate is multiplied by factor',
  })
  @IsOptional()
  @IsArray()
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  milestones?: number[];
  @Num({ min: 0, max: 1, default: JOB_DEFAULTS.factor })
  factor?: number;
  @Int({ min: 1, description: 'Linear scaling rule: lr × batchSize / referenceBatch (unset: lr as given)' })
  referenceBatch?: number;
}

export class AugmentDto {
  @Int({ min: 0, max: 64, required: true, description: 'Pad by this many pixels, then crop randomly' })
  padCrop!: number;
  @Bool({ required: true, description: 'Random horizontal flips' })
  flip!: boolean;
}

/** Body of POST /jobs; every field but the dataset has the paper's CIFAR default (JOB_DEFAULTS). */
export class CreateJobDto {
  @ApiPropertyOptional({
    maxLength: 100,
    pattern: '^[\\w .-]*$',
    description: 'Shown in lists; default "<model> on <dataset>"',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[\w .-]*$/, { message: 'name may hold letters, digits, spaces, _ . and - only' })
  name?: string;

  @Int({
    min: -1000,
    max: 1000,
    default: JOB_DEFAULTS.priority,
    description:
      'Queued jobs start highest priority first, FIFO within a priority; a job preempts running jobs of lower ' +
      'priority at their next step boundary (they pause, then resume by themselves with the same result)',
  })
  priority?: number;
  @Int({
    min: 1,
    max: 100,
    default: JOB_DEFAULTS.weight,
    description:
      'Jobs running at once (MAX_CONCURRENT_JOBS) share the workers in proportion to their weights',
  })
  weight?: number;

  @OneOf(MODEL_NAMES, { default: JOB_DEFAULTS.model })
  model?: ModelName;
  @OneOf(SHORTCUTS, {
    default: JOB_DEFAULTS.shortcut,
    description: 'Shortcut on downsampling blocks (paper options B and A)',
  })
  shortcut?: ShortcutKind;

  @ApiProperty({ type: DatasetDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  dataset!: DatasetDto;

  @Int({
    min: 1,
    max: 65536,
    default: JOB_DEFAULTS.batchSize,
    description: 'Images per step, over all shards',
  })
  batchSize?: number;
  /** Fixed by the job, not by how many workers are alive, so the math never depends on the cluster. */
  @Int({
    min: 1,
    max: 1024,
    default: JOB_DEFAULTS.shardsPerStep,
    description: 'Shards each step is split into, whatever the number of workers',
  })
  shardsPerStep?: number;
  @OneOf(TENSOR_DTYPES, {
    default: JOB_DEFAULTS.gradientEncoding,
    description:
      'Number format of gradient messages: fp32 is exact; fp16 and bf16 halve the bytes, with error feedback in each worker',
  })
  gradientEncoding?: TensorDtype;
  @OneOf(PRECISIONS, {
    default: JOB_DEFAULTS.precision,
    description:
      'What the workers compute in: fp32, or bf16 mixed precision (convolutions and the classifier in bfloat16 with ' +
      'float32 accumulation; batch norm, loss, weights, optimizer and gradients in float32), taken only by onednn ' +
      'workers whose CPU has native bf16 (AVX512_BF16 or AMX)',
  })
  precision?: Precision;
  @Int({
    min: 1,
    max: 64,
    default: JOB_DEFAULTS.localSteps,
    description:
      'Local SGD: SGD steps each shard takes on its own batches between synchronisations (1: synchronous SGD); ' +
      'divides communication per image by this, at some cost in accuracy',
  })
  localSteps?: number;
  @Int({
    min: 1,
    max: 16,
    default: JOB_DEFAULTS.partitions,
    description:
      'Parts the model is split into for aggregation, each with its own messages, aggregator and Redis keys; ' +
      'on a Redis Cluster with this many masters each part is served by its own master. The result is the same for any count',
  })
  partitions?: number;
  @OneOf(AGGREGATION_PLACES, {
    default: JOB_DEFAULTS.aggregation,
    description:
      'Where gradients are summed and SGD applied: in the coordinator, or by summation services (npm run aggregator, ' +
      'one per worker machine) that workers push gradient units to and pull weights units from. Services need ' +
      'fp32 gradients and synchronous SGD (localSteps 1), and split the model into units instead of partitions',
  })
  aggregation?: AggregationPlace;
  @Int({
    min: 1,
    max: 64,
    description:
      'With services: units the model is cut into, runs of whole tensors spread over the services ' +
      '(default: at least 2 per live service, each at most 4 MB)',
  })
  units?: number;
  @Int({
    min: 1,
    max: 1024,
    description:
      'Shards are summed in order within groups of this many consecutive shards, then the groups in order; ' +
      'at most shardsPerStep (default shardsPerStep: one group)',
  })
  foldGroup?: number;
  @Num({ min: 0.001, max: 10000, default: JOB_DEFAULTS.epochs })
  epochs?: number;
  @Int({ min: 1, description: 'Stop after this many steps even if the epochs are not done' })
  maxSteps?: number;
  @Int({ min: 0, default: JOB_DEFAULTS.seed, description: 'Seeds initial weights and data order' })
  seed?: number;

  @Num({ positive: true, max: 100, default: JOB_DEFAULTS.lr, description: 'Peak learning rate' })
  lr?: number;
  @Num({ min: 0, max: 1, default: JOB_DEFAULTS.momentum })
  momentum?: number;
  @Num({ min: 0, max: 1, default: JOB_DEFAULTS.weightDecay })
  weightDecay?: number;
  @Bool({ default: JOB_DEFAULTS.nesterov })
  nesterov?: boolean;

  @ApiPropertyOptional({ type: ScheduleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto;
  @ApiPropertyOptional({
    type: AugmentDto,
    nullable: true,
    description: `Null turns augmentation off; default pad ${JOB_DEFAULTS.augment.padCrop} and flip`,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AugmentDto)
  augment?: AugmentDto | null;

  @Int({
    min: 0,
    default: JOB_DEFAULTS.evalEvery,
    description: 'Evaluate every this many epochs and after the last step; 0 turns evaluation off',
  })
  evalEvery?: number;
  @Int({
    min: 0,
    description:
      'Disk checkpoint every this many steps and at the end (default: once per epoch); 0 turns them off',
  })
  checkpointEvery?: number;
  @Int({
    min: 1,
    max: 100000,
    default: JOB_DEFAULTS.evalShardSize.small,
    description: `Test images per evaluation shard (default ${JOB_DEFAULTS.evalShardSize.imagenet} for imagenet-folder datasets)`,
  })
  evalShardSize?: number;
}
