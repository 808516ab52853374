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
import { layoutsOf } from '@resnet/model';
import { architectureOf, AugmentSettings, TrainingJobSpec } from '@resnet/job';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { SummationServicesRepository } from '../repositories/summation-services.repository';
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
    private readonly services: SummationServicesRepository,
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
    const shortcut = dto.shortcut ?? JOB_DEFAULTS.shortcut;
    const gradientEncoding = dto.gradientEncoding ?? JOB_DEFAULTS.gradientEncoding;
    const localSteps = dto.localSteps ?? JOB_DEFAULTS.localSteps;
    if (dto.foldGroup !== undefined && dto.foldGroup > shardsPerStep)
      throw new BadRequestException(
        `foldGroup ${dto.foldGroup} exceeds shardsPerStep ${shardsPerStep}: give 1 to ${shardsPerStep}`,
      );
    const aggregation =
      (dto.aggregation ?? JOB_DEFAULTS.aggregation) === 'services'
        ? await this.servicesFields(
            dto,
            { model, shortcut, numClasses: data.classNames.length },
            gradientEncoding,
            localSteps,
          )
        : this.coordinatorFields(dto);
    return {
      name,
      model,
      shortcut,
      dataset,
      batchSize,
      shardsPerStep,
      gradientEncoding,
      precision: dto.precision ?? JOB_DEFAULTS.precision,
      localSteps,
      ...aggregation,
      ...(dto.foldGroup === undefined ? {} : { foldGroup: dto.foldGroup }),
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

  /** A job aggregated in the coordinator: its partitions. */
  private coordinatorFields(dto: CreateJobDto): Pick<TrainingJobSpec, 'partitions'> {
    if (dto.units !== undefined)
      throw new BadRequestException('units applies only with aggregation "services"; use partitions instead');
    return { partitions: dto.partitions ?? JOB_DEFAULTS.partitions };
  }

  /**
   * A job on summation services: its units, which are also its storage partitions. By default at
   * least 2 per live service, so that every service has a share, and none above 4 MB.
   */
  private async servicesFields(
    dto: CreateJobDto,
    network: Pick<TrainingJobSpec, 'model' | 'shortcut' | 'numClasses'>,
    gradientEncoding: string,
    localSteps: number,
  ): Promise<Pick<TrainingJobSpec, 'aggregation' | 'units' | 'partitions'>> {
    if (dto.partitions !== undefined)
      throw new BadRequestException(
        'partitions does not apply with aggregation "services": the model is cut into units; set units instead',
      );
    if (gradientEncoding !== 'fp32')
      throw new BadRequestException(
        `aggregation "services" needs gradientEncoding fp32 (got ${gradientEncoding}): every copy of a shard must be the same bits`,
      );
    if (localSteps !== 1)
      throw new BadRequestException('aggregation "services" runs synchronous SGD only: set localSteps to 1');
    const params = layoutsOf(architectureOf(network)).params;
    const live = (await this.services.liveServices()).length;
    const units =
      dto.units ??
      Math.min(
        params.tensors.length,
        Math.max(2 * Math.max(1, live), Math.ceil((params.size * 4) / JOB_DEFAULTS.maxUnitBytes)),
      );
    if (units > params.tensors.length)
      throw new BadRequestException(
        `units ${units} exceeds the ${params.tensors.length} parameter tensors of ${network.model}: a unit holds whole tensors`,
      );
    return { aggregation: 'services', units, partitions: units };
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
