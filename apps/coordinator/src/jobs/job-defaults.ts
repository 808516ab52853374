import { ModelName, ShortcutKind } from '@resnet/model';
import { DEFAULT_JOB_SHARE, Precision, TensorDtype } from '@resnet/protocol';

/**
 * What POST /jobs uses for a field the request leaves out: the paper's CIFAR recipe. Read by the
 * request's validation (for the OpenAPI document) and by JobSpecFactory.
 */
export const JOB_DEFAULTS = {
  model: 'resnet20' as ModelName,
  shortcut: 'projection' as ShortcutKind,
  batchSize: 128,
  shardsPerStep: 2,
  gradientEncoding: 'fp32' as TensorDtype,
  precision: 'fp32' as Precision,
  localSteps: 1,
  partitions: 1,
  aggregation: 'coordinator' as 'coordinator' | 'services',
  /** Largest unit a services job is cut into by default (BytePS's 4 MB). */
  maxUnitBytes: 4 * 1024 * 1024,
  epochs: 1,
  seed: 0,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  nesterov: false,
  decay: 'cosine' as 'constant' | 'step' | 'cosine',
  warmupEpochs: 0,
  factor: 0.1,
  evalEvery: 1,
  /** Evaluation keeps a whole shard's activations at once: 224×224 images need far smaller shards. */
  evalShardSize: { small: 1000, imagenet: 32 },
  augment: { padCrop: 4, flip: true },
  ...DEFAULT_JOB_SHARE,
} as const;

/** A generated dataset's shape unless the request says otherwise. */
export const SYNTHETIC_DEFAULTS = {
  trainSize: 2048,
  testSize: 512,
  imageSize: 32,
  numClasses: 10,
  seed: 1,
} as const;
