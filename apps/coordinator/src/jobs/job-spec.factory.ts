import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import {
  DatasetError,
  DatasetRef,
  IMAGENET_IMAGE_SIZE,
  normalizationOf,
  openDatasetSplits,
  stepsPerEpoch,
} from '@resnet/data';
import { AugmentSettings, TrainingJobSpec } from '@resnet/protocol';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { CreateJobDto } from './dto/create-job.dto';

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

  constructor(@Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig) {}

  async build(dto: CreateJobDto): Promise<TrainingJobSpec> {
    const dataset = datasetRef(dto);
    const data = await this.summary(dataset);
    const batchSize = dto.batchSize ?? 128;
    const shardsPerStep = dto.shardsPerStep ?? 2;
    const seed = dto.seed ?? 0;
    let perEpoch: number;
    try {
      perEpoch = stepsPerEpoch({ datasetSize: data.trainSize, batchSize, shardsPerStep, seed });
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
    const epochs = dto.epochs ?? 1;
    const totalSteps = Math.max(1, Math.min(Math.round(epochs * perEpoch), dto.maxSteps ?? Infinity));
    const schedule = dto.schedule ?? {};
    const decay = schedule.decay ?? 'cosine';
    const toSteps = (epochCount: number): number => Math.round(epochCount * perEpoch);
    return {
      name:
        dto.name ??
        `${dto.model ?? 'resnet20'} on ${dataset.kind === 'synthetic' ? 'synthetic data' : dataset.path}`,
      model: dto.model ?? 'resnet20',
      shortcut: dto.shortcut ?? 'projection',
      dataset,
      batchSize,
      shardsPerStep,
      gradientEncoding: dto.gradientEncoding ?? 'fp32',
      localSteps: dto.localSteps ?? 1,
      seed,
      optimizer: {
        momentum: dto.momentum ?? 0.9,
        weightDecay: dto.weightDecay ?? 1e-4,
        nesterov: dto.nesterov ?? false,
      },
      schedule: {
        lr: dto.lr ?? 0.1,
        warmupSteps: Math.min(totalSteps, toSteps(schedule.warmupEpochs ?? 0)),
        decay,
        milestones: (schedule.milestones ?? []).map(toSteps),
        factor: schedule.factor ?? 0.1,
        referenceBatch: schedule.referenceBatch ?? null,
      },
      augment: augmentFor(dto, dataset),
      evalEvery: dto.evalEvery ?? 1,
      // Evaluation keeps a whole shard's activations at once: 224×224 images need far smaller shards.
      evalShardSize: dto.evalShardSize ?? (dataset.kind === 'imagenet-folder' ? 32 : 1000),
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
  private summary(ref: DatasetRef): Promise<DatasetSummary> {
    const key = JSON.stringify(ref);
    let summary = this.summaries.get(key);
    if (!summary) {
      summary = summarise(ref, this.config.dataRoot);
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
    trainSize: d.trainSize ?? 2048,
    testSize: d.testSize ?? 512,
    imageSize: d.imageSize ?? 32,
    numClasses: d.numClasses ?? 10,
    seed: d.seed ?? 1,
  };
}

/** CIFAR's pad-and-crop by default; ImageNet-style folders always take random-resized crops instead. */
function augmentFor(dto: CreateJobDto, dataset: DatasetRef): AugmentSettings | null {
  if (dataset.kind !== 'imagenet-folder')
    return dto.augment === undefined ? { padCrop: 4, flip: true } : dto.augment;
  if (dto.augment && dto.augment.padCrop !== 0) {
    throw new BadRequestException(
      'augment.padCrop does not apply to imagenet-folder datasets, which train on random-resized crops: set padCrop to 0',
    );
  }
  return dto.augment === undefined ? { padCrop: 0, flip: true } : dto.augment;
}

async function summarise(ref: DatasetRef, dataRoot: string): Promise<DatasetSummary> {
  const { train, test } = await openDatasetSplits(ref, dataRoot);
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
