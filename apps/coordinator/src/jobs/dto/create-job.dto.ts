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

export class DatasetDto {
  @IsIn(['synthetic', 'folder'])
  kind!: 'synthetic' | 'folder';

  /** Folder or .tar.gz archive relative to the coordinator's and workers' DATA_ROOT. */
  @ValidateIf((d: DatasetDto) => d.kind === 'folder')
  @IsString()
  @MaxLength(500)
  path?: string;

  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) trainSize?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) testSize?: number;
  @IsOptional() @IsInt() @Min(8) @Max(256) imageSize?: number;
  @IsOptional() @IsInt() @Min(2) @Max(1000) numClasses?: number;
  @IsOptional() @IsInt() @Min(0) seed?: number;
}

export class ScheduleDto {
  @IsOptional() @IsIn(['constant', 'step', 'cosine']) decay?: 'constant' | 'step' | 'cosine';
  /** Linear warmup length in epochs (fractions allowed). */
  @IsOptional() @IsNumber() @Min(0) warmupEpochs?: number;
  /** Step decay: epochs at which the rate is multiplied by `factor`. */
  @IsOptional() @IsArray() @IsNumber({}, { each: true }) @Min(0, { each: true }) milestones?: number[];
  @IsOptional() @IsNumber() @Min(0) @Max(1) factor?: number;
  /** Linear scaling rule: lr × batchSize / referenceBatch. */
  @IsOptional() @IsInt() @Min(1) referenceBatch?: number;
}

export class AugmentDto {
  @IsInt() @Min(0) @Max(64) padCrop!: number;
  @IsBoolean() flip!: boolean;
}

/** Body of POST /jobs; every field but the dataset has the paper's CIFAR default. */
export class CreateJobDto {
  @IsOptional() @IsString() @MaxLength(100) @Matches(/^[\w .-]*$/, { message: 'name may hold letters, digits, spaces, _ . and - only' })
  name?: string;

  @IsOptional() @IsIn(MODEL_NAMES as unknown as string[]) model?: ModelName;
  @IsOptional() @IsIn(['projection', 'zero-pad']) shortcut?: ShortcutKind;

  @IsDefined() @ValidateNested() @Type(() => DatasetDto)
  dataset!: DatasetDto;

  @IsOptional() @IsInt() @Min(1) @Max(65536) batchSize?: number;
  /** Fixed by the job, not by how many workers are alive, so the math never depends on the cluster. */
  @IsOptional() @IsInt() @Min(1) @Max(1024) shardsPerStep?: number;
  @IsOptional() @IsNumber() @Min(0.001) @Max(10000) epochs?: number;
  /** Stop after this many steps even if the epochs are not done (smoke runs). */
  @IsOptional() @IsInt() @Min(1) maxSteps?: number;
  @IsOptional() @IsInt() @Min(0) seed?: number;

  @IsOptional() @IsNumber() @Min(0) @Max(100) lr?: number;
  @IsOptional() @IsNumber() @Min(0) @Max(1) momentum?: number;
  @IsOptional() @IsNumber() @Min(0) @Max(1) weightDecay?: number;
  @IsOptional() @IsBoolean() nesterov?: boolean;

  @IsOptional() @ValidateNested() @Type(() => ScheduleDto) schedule?: ScheduleDto;
  /** Null turns augmentation off. */
  @IsOptional() @ValidateNested() @Type(() => AugmentDto) augment?: AugmentDto | null;

  @IsOptional() @IsInt() @Min(0) evalEvery?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100000) evalShardSize?: number;
}
