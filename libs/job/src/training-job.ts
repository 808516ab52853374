import { DatasetRef } from '@resnet/data';
import { architectureFor, ModelName, ResNetArchitecture, ShortcutKind } from '@resnet/model';
import { LrSchedule, ScheduleSettings, SgdSettings } from '@resnet/optimizer';
import { DEFAULT_PRECISION, Precision, ShardMessageKind, TensorDtype } from '@resnet/protocol';

export interface AugmentSettings {
  readonly padCrop: number;
  readonly flip: boolean;
}

/** A training job as the coordinator runs it: the user's request with every default and derived value filled in. */
export interface TrainingJobSpec {
  readonly name: string;
  readonly model: ModelName;
  readonly shortcut: ShortcutKind;
  readonly dataset: DatasetRef;
  readonly batchSize: number;
  readonly shardsPerStep: number;
  /**
   * Number format of the workers' gradient messages: fp32 is exact; fp16 and bf16 halve the bytes,
   * with error feedback in each worker so that rounding errors do not accumulate.
   */
  readonly gradientEncoding: TensorDtype;
  /**
   * What the workers compute the model in (see Precision): fp32, or bf16 mixed precision on workers
   * whose CPUs have it, which alone take the job's shards. Absent in specs stored before precisions: fp32.
   */
  readonly precision?: Precision;
  /**
   * Local SGD: each shard takes this many SGD steps on its own batches between synchronisations,
   * and one round (one weights version) covers this many global steps. 1 is synchronous SGD.
   */
  readonly localSteps: number;
  /**
   * Parts the model is split into for aggregation (see ModelPartition): each has its own gradient
   * messages, aggregator and weights keys, which a Redis Cluster spreads over its masters. The
   * result is bitwise the same for any count. Absent in specs stored before partitions: 1.
   */
  readonly partitions?: number;
  /**
   * Where the shards' gradients are summed and SGD applied: 'coordinator' (its aggregators, over
   * Redis), or 'services', summation services (apps/aggregator) that workers push gradient units
   * to and pull weights units from, while the coordinator only schedules and commits. Absent: the
   * coordinator.
   */
  readonly aggregation?: AggregationPlace;
  /**
   * With services: the units the model is cut into (runs of whole tensors, as partitions), each
   * summed, updated and served by the service that holds its lease. Such a job stores its weights
   * and optimizer state per unit: its `partitions` equals `units`.
   */
  readonly units?: number;
  /**
   * Shards are folded in order within fixed groups of this many consecutive shards, then the
   * groups in order (see StepAggregator). Absent: shardsPerStep, one group.
   */
  readonly foldGroup?: number;
  readonly seed: number;
  readonly optimizer: SgdSettings;
  readonly schedule: ScheduleSettings;
  readonly augment: AugmentSettings | null;
  /** Evaluate on the test split every this many epochs and after the last step; 0 turns evaluation off. */
  readonly evalEvery: number;
  readonly evalShardSize: number;
  /** Write a disk checkpoint every this many steps and at the end; 0 turns checkpoints off. */
  readonly checkpointEvery: number;
  readonly totalSteps: number;
  // Derived from the dataset when the job is submitted, so every worker uses the same values.
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly imageShape: readonly [number, number];
  readonly trainSize: number;
  readonly testSize: number;
  readonly stepsPerEpoch: number;
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

export type AggregationPlace = 'coordinator' | 'services';

/** Whether summation services, not the coordinator, sum the job's gradients and apply its updates. */
export function usesServices(spec: Pick<TrainingJobSpec, 'aggregation'>): boolean {
  return spec.aggregation === 'services';
}

/** Consecutive shards folded as a group before the groups are folded in order. */
export function foldGroupOf(spec: Pick<TrainingJobSpec, 'foldGroup' | 'shardsPerStep'>): number {
  return spec.foldGroup ?? spec.shardsPerStep;
}

/** The network a job trains, as every process that computes for it builds it. */
export function architectureOf(
  spec: Pick<TrainingJobSpec, 'model' | 'numClasses' | 'shortcut'>,
): ResNetArchitecture {
  return architectureFor(spec.model, { numClasses: spec.numClasses, shortcut: spec.shortcut });
}

/** The learning-rate schedule of a job, over its global steps. */
export function scheduleOf(spec: TrainingJobSpec): LrSchedule {
  return { ...spec.schedule, batchSize: spec.batchSize, totalSteps: spec.totalSteps };
}

/** Specs stored before local SGD existed (in Redis, in checkpoints) have no localSteps: they ran synchronous SGD. */
function localStepsOf(spec: Pick<TrainingJobSpec, 'localSteps'>): number {
  return spec.localSteps ?? 1;
}

export function usesLocalSgd(spec: Pick<TrainingJobSpec, 'localSteps'>): boolean {
  return localStepsOf(spec) > 1;
}

/**
 * Global steps (batches) in the round that starts at global step `step`: localSteps, or what is
 * left of the job in its last round; 1 in synchronous SGD. Rounds start at multiples of localSteps.
 */
export function roundSteps(spec: Pick<TrainingJobSpec, 'localSteps' | 'totalSteps'>, step: number): number {
  return Math.min(localStepsOf(spec), spec.totalSteps - step);
}

/** The weights version committed before `version`: every round but the last is whole. */
export function previousVersion(spec: Pick<TrainingJobSpec, 'localSteps'>, version: number): number {
  return version - localStepsOf(spec);
}

/** 'paused' keeps the last committed step; resuming continues from it. */

export function shardMessageKind(spec: Pick<TrainingJobSpec, 'localSteps'>): ShardMessageKind {
  return usesLocalSgd(spec) ? 'delta' : 'gradient';
}

/** The job's compute precision; specs stored before precisions existed have none: fp32. */
export function precisionOf(spec: Pick<TrainingJobSpec, 'precision'>): Precision {
  return spec.precision ?? DEFAULT_PRECISION;
}
