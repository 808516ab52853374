import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import {
  DatasetError,
  DatasetProgressListener,
  DatasetRef,
  IMAGENET_IMAGE_SIZE,
  normalizationOf,
  openDatasetSplits,
  stepsPerEpoch,
} from '@resnet/data';
import { AugmentSettings, TrainingJobSpec } from '@resnet/job';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { DatasetPreparations } from './dataset-preparations';
import { CreateJobDto } from './dto/create-job.dto';
import { JOB_DEFAULTS, SYNTHETIC_DEFAULTS } from './job-defaults';

interface DatasetSummary {
  readonly trainSize: number;
  readonly testSize: number;
  readonly classNames: readonly string[];
  readonly imageShape: readonly [number, number];
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

/** Turns a validated request into a complete job spec: defaults, and values derived from the dataset. */
@Injectable()
export class JobSpecFactory {
  private readonly summaries = new Map<string, Promise<DatasetSummary>>();

  constructor(
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    private readonly preparations: DatasetPreparations,
  ) {}

  async build(dto: CreateJobDto): Promise<TrainingJobSpec> {
    const dataset = datasetRef(dto);
    const model = dto.model ?? JOB_DEFAULTS.model;
    const name = dto.name ?? `${model} on ${dataset.kind === 'synthetic' ? 'synthetic data' : dataset.path}`;
    const data = await this.summary(dataset, name);
    const batchSize = dto.batchSize ?? JOB_DEFAULTS.batchSize;
    const shardsPerStep = dto.shardsPerStep ?? JOB_DEFAULTS.shardsPerStep;
    const seed = dto.seed ?? JOB_DEFAULTS.seed;
    let perEpoch: number;
    try {
      perEpoch = stepsPerEpoch({ datasetSize: data.trainSize, batchSize, shardsPerStep, seed });
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
    const epochs = dto.epochs ?? JOB_DEFAULTS.epochs;
    const totalSteps = Math.max(1, Math.min(Math.round(epochs * perEpoch), dto.maxSteps ?? Infinity));
    const schedule = dto.schedule ?? {};
    const decay = schedule.decay ?? JOB_DEFAULTS.decay;
    const toSteps = (epochCount: number): number => Math.round(epochCount * perEpoch);
    return {
      name,
      model,
      shortcut: dto.shortcut ?? JOB_DEFAULTS.shortcut,
      dataset,
      batchSize,
      shardsPerStep,
      gradientEncoding: dto.gradientEncoding ?? JOB_DEFAULTS.gradientEncoding,
      localSteps: dto.localSteps ?? JOB_DEFAULTS.localSteps,
      partitions: dto.partitions ?? JOB_DEFAULTS.partitions,
      seed,
      optimizer: {
        momentum: dto.momentum ?? JOB_DEFAULTS.momentum,
        weightDecay: dto.weightDecay ?? JOB_DEFAULTS.weightDecay,
        nesterov: dto.nesterov ?? JOB_DEFAULTS.nesterov,
      },
      schedule: {
        lr: dto.lr ?? JOB_DEFAULTS.lr,
        warmupSteps: Math.min(totalSteps, toSteps(schedule.warmupEpochs ?? JOB_DEFAULTS.warmupEpochs)),
        decay,
        milestones: (schedule.milestones ?? []).map(toSteps),
        factor: schedule.factor ?? JOB_DEFAULTS.factor,
        referenceBatch: schedule.referenceBatch ?? null,
      },
      augment: augmentFor(dto, dataset),
      evalEvery: dto.evalEvery ?? JOB_DEFAULTS.evalEvery,
      evalShardSize:
        dto.evalShardSize ??
        JOB_DEFAULTS.evalShardSize[dataset.kind === 'imagenet-folder' ? 'imagenet' : 'small'],
      checkpointEvery: dto.checkpointEvery ?? perEpoch,
      totalSteps,
      numClasses: data.classNames.length,
      classNames: data.classNames,
      imageShape: data.imageShape,
      trainSize: data.trainSize,
      testSize: data.testSize,
      stepsPerEpoch: perEpoch,
      normalization: data.normalization,
    };
  }

  /** Reading a dataset can take a while; remember each one's summary. */
  private summary(ref: DatasetRef, jobName: string): Promise<DatasetSummary> {
    const key = JSON.stringify(ref);
    let summary = this.summaries.get(key);
    if (!summary) {
      const { dataRoot } = this.config;
      summary =
        ref.kind === 'synthetic'
          ? summarise(ref, dataRoot)
          : this.preparations.track(ref.path, jobName, (onProgress) => summarise(ref, dataRoot, onProgress));
      this.summaries.set(key, summary);
      summary.catch(() => this.summaries.delete(key));
    }
    return summary.catch((err: Error) => {
      if (err instanceof DatasetError) throw new BadRequestException(`dataset: ${err.message}`);
      throw err;
    });
  }
}

function datasetRef(dto: CreateJobDto): DatasetRef {
  const d = dto.dataset;
  if (d.kind === 'folder') return { kind: 'folder', path: d.path! };
  if (d.kind === 'imagenet-folder')
    return { kind: 'imagenet-folder', path: d.path!, imageSize: d.imageSize ?? IMAGENET_IMAGE_SIZE };
  return {
    kind: 'synthetic',
    trainSize: d.trainSize ?? SYNTHETIC_DEFAULTS.trainSize,
    testSize: d.testSize ?? SYNTHETIC_DEFAULTS.testSize,
    imageSize: d.imageSize ?? SYNTHETIC_DEFAULTS.imageSize,
    numClasses: d.numClasses ?? SYNTHETIC_DEFAULTS.numClasses,
    seed: d.seed ?? SYNTHETIC_DEFAULTS.seed,
  };
}

/** CIFAR's pad-and-crop by default; ImageNet-style folders always take random-resized crops instead. */
function augmentFor(dto: CreateJobDto, dataset: DatasetRef): AugmentSettings | null {
  if (dataset.kind !== 'imagenet-folder')
    return dto.augment === undefined ? JOB_DEFAULTS.augment : dto.augment;
  if (dto.augment && dto.augment.padCrop !== 0) {
    throw new BadRequestException(
      'augment.padCrop does not apply to imagenet-folder datasets, which train on random-resized crops: set padCrop to 0',
    );
  }
  return dto.augment === undefined ? { ...JOB_DEFAULTS.augment, padCrop: 0 } : dto.augment;
}

async function summarise(
  ref: DatasetRef,
  dataRoot: string,
  onProgress?: DatasetProgressListener,
): Promise<DatasetSummary> {
  const { train, test } = await openDatasetSplits(ref, dataRoot, onProgress);
  if (test.height !== train.height || test.width !== train.width) {
    throw new DatasetError(
      `train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`,
    );
  }
  return {
    trainSize: train.size,
    testSize: test.size,
    classNames: train.classNames,
    imageShape: [train.height, train.width],
    normalization: normalizationOf(train),
  };
}
