import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MODEL_NAMES, ModelName, ShortcutKind } from '@resnet/model';
import { TENSOR_DTYPES, TensorDtype } from '@resnet/protocol';

// @ApiProperty repeats the validators' limits: plain tsc runs no Swagger plugin to read them.

export class DatasetDto {
  @ApiProperty({
    enum: ['synthetic', 'folder', 'imagenet-folder'],
    description:
      'Generated images; a folder of images under DATA_ROOT decoded into memory (CIFAR-sized); or an ImageNet-style ' +
      'folder (train/ and val/ of class folders) decoded batch by batch with random-resized crops',
  })
  @IsIn(['synthetic', 'folder', 'imagenet-folder'])
  kind!: 'synthetic' | 'folder' | 'imagenet-folder';

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
  path?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: 2048,
    description: 'Synthetic: training images',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  trainSize?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: 512,
    description: 'Synthetic: test images',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  testSize?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 8,
    maximum: 256,
    description: 'Synthetic (default 32) and imagenet-folder (default 224): image side in pixels',
  })
  @IsOptional()
  @IsInt()
  @Min(8)
  @Max(256)
  imageSize?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 2,
    maximum: 1000,
    default: 10,
    description: 'Synthetic: classes',
  })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(1000)
  numClasses?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 1, description: 'Synthetic: generator seed' })
  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number;
}

export class ScheduleDto {
  @ApiPropertyOptional({ enum: ['constant', 'step', 'cosine'], default: 'cosine' })
  @IsOptional()
  @IsIn(['constant', 'step', 'cosine'])
  decay?: 'constant' | 'step' | 'cosine';
  /** Linear warmup length in epochs (fractions allowed). */
  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    description: 'Linear warmup length in epochs (fractions allowed)',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  warmupEpochs?: number;
  /** Step decay: epochs at which the rate is multiplied by `factor`. */
  @ApiPropertyOptional({
    type: [Number],
    description: 'Step decay: epochs at which the rate is multiplied by factor',
  })
  @IsOptional()
  @IsArray()
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  milestones?: number[];
  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0.1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  factor?: number;
  /** Linear scaling rule: lr × batchSize / referenceBatch. */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'Linear scaling rule: lr × batchSize / referenceBatch (unset: lr as given)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  referenceBatch?: number;
}

export class AugmentDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: 64,
    description: 'Pad by this many pixels, then crop randomly',
  })
  @IsInt()
  @Min(0)
  @Max(64)
  padCrop!: number;
  @ApiProperty({ description: 'Random horizontal flips' })
  @IsBoolean()
  flip!: boolean;
}

/** Body of POST /jobs; every field but the dataset has the paper's CIFAR default. */
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

  @ApiPropertyOptional({ enum: MODEL_NAMES, default: 'resnet20' })
  @IsOptional()
  @IsIn(MODEL_NAMES as unknown as string[])
  model?: ModelName;
  @ApiPropertyOptional({
    enum: ['projection', 'zero-pad'],
    default: 'projection',
    description: 'Shortcut on downsampling blocks (paper options B and A)',
  })
  @IsOptional()
  @IsIn(['projection', 'zero-pad'])
  shortcut?: ShortcutKind;

  @ApiProperty({ type: DatasetDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  dataset!: DatasetDto;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 65536,
    default: 128,
    description: 'Images per step, over all shards',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65536)
  batchSize?: number;
  /** Fixed by the job, not by how many workers are alive, so the math never depends on the cluster. */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1024,
    default: 2,
    description: 'Shards each step is split into, whatever the number of workers',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  shardsPerStep?: number;
  @ApiPropertyOptional({
    enum: TENSOR_DTYPES,
    default: 'fp32',
    description:
      'Number format of gradient messages: fp32 is exact; fp16 and bf16 halve the bytes, with error feedback in each worker',
  })
  @IsOptional()
  @IsIn(TENSOR_DTYPES as unknown as string[])
  gradientEncoding?: TensorDtype;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 64,
    default: 1,
    description:
      'Local SGD: SGD steps each shard takes on its own batches between synchronisations (1: synchronous SGD); ' +
      'divides communication per image by this, at some cost in accuracy',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  localSteps?: number;
  @ApiPropertyOptional({ minimum: 0.001, maximum: 10000, default: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0.001)
  @Max(10000)
  epochs?: number;
  /** Stop after this many steps even if the epochs are not done (smoke runs). */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'Stop after this many steps even if the epochs are not done',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  maxSteps?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    default: 0,
    description: 'Seeds initial weights and data order',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 0.1, description: 'Peak learning rate' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  lr?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0.9 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  momentum?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 1e-4 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  weightDecay?: number;
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  nesterov?: boolean;

  @ApiPropertyOptional({ type: ScheduleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto;
  /** Null turns augmentation off. */
  @ApiPropertyOptional({
    type: AugmentDto,
    nullable: true,
    description: 'Null turns augmentation off; default pad 4 and flip',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AugmentDto)
  augment?: AugmentDto | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    default: 1,
    description: 'Evaluate every this many epochs and after the last step; 0 turns evaluation off',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  evalEvery?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description:
      'Disk checkpoint every this many steps and at the end (default: once per epoch); 0 turns them off',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  checkpointEvery?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 100000,
    default: 1000,
    description: 'Test images per evaluation shard',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  evalShardSize?: number;
}
