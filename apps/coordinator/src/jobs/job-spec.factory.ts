import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { channelStats, DatasetError, DatasetRef, openDatasetSplits, stepsPerEpoch } from '@resnet/data';
import { TrainingJobSpec } from '@resnet/protocol';
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
      name: dto.name ?? `${dto.model ?? 'resnet20'} on ${dataset.kind === 'folder' ? dataset.path : 'synthetic data'}`,
      model: dto.model ?? 'resnet20',
      shortcut: dto.shortcut ?? 'projection',
      dataset,
      batchSize,
      shardsPerStep,
      seed,
      optimizer: { momentum: dto.momentum ?? 0.9, weightDecay: dto.weightDecay ?? 1e-4, nesterov: dto.nesterov ?? false },
      schedule: {
        lr: dto.lr ?? 0.1,
        warmupSteps: Math.min(totalSteps, toSteps(schedule.warmupEpochs ?? 0)),
        decay,
        milestones: (schedule.milestones ?? []).map(toSteps),
        factor: schedule.factor ?? 0.1,
        referenceBatch: schedule.referenceBatch ?? null,
      },
      augment: dto.augment === undefined ? { padCrop: 4, flip: true } : dto.augment,
      evalEvery: dto.evalEvery ?? 1,
      evalShardSize: dto.evalShardSize ?? 1000,
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
  return {
    kind: 'synthetic',
    trainSize: d.trainSize ?? 2048,
    testSize: d.testSize ?? 512,
    imageSize: d.imageSize ?? 32,
    numClasses: d.numClasses ?? 10,
    seed: d.seed ?? 1,
  };
}

async function summarise(ref: DatasetRef, dataRoot: string): Promise<DatasetSummary> {
  const { train, test } = await openDatasetSplits(ref, dataRoot);
  if (test.height !== train.height || test.width !== train.width) {
    throw new DatasetError(`train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`);
  }
  return {
    trainSize: train.size,
    testSize: test.size,
    classNames: train.classNames,
    imageShape: [train.height, train.width],
    normalization: channelStats(train),
  };
}
