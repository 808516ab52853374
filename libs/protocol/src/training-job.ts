import { DatasetRef } from '@resnet/data';
import { ModelName, ShortcutKind } from '@resnet/model';
import { ScheduleSettings, SgdSettings } from '@resnet/optimizer';
import { TensorDtype } from './tensor-dtype';

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

/** 'paused' keeps the last committed step; resuming continues from it. */
export const JOB_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobState {
  readonly id: string;
  readonly status: JobStatus;
  /** Optimizer steps applied so far; the current weights version. */
  readonly step: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly error?: string;
}
