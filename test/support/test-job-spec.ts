import { layoutsOf, ModelLayouts } from '@resnet/model';
import { architectureOf, TrainingJobSpec } from '@resnet/job';

// A job spec for the apps' unit tests (coordinator and aggregator alike) and the Redis tests.

/** A small synchronous-SGD job on generated 8×8 images: every derived field filled in. */
export function testSpec(overrides: Partial<TrainingJobSpec> = {}): TrainingJobSpec {
  return {
    name: 'unit',
    model: 'resnet20',
    shortcut: 'projection',
    dataset: { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 2, seed: 1 },
    batchSize: 8,
    shardsPerStep: 2,
    gradientEncoding: 'fp32',
    localSteps: 1,
    seed: 0,
    optimizer: { momentum: 0, weightDecay: 0, nesterov: false },
    schedule: {
      lr: 0.1,
      warmupSteps: 0,
      decay: 'constant',
      milestones: [],
      factor: 0.1,
      referenceBatch: null,
    },
    augment: null,
    evalEvery: 0,
    evalShardSize: 16,
    checkpointEvery: 0,
    totalSteps: 3,
    numClasses: 2,
    classNames: ['a', 'b'],
    imageShape: [8, 8],
    trainSize: 64,
    testSize: 16,
    stepsPerEpoch: 8,
    normalization: { mean: [0, 0, 0], std: [1, 1, 1] },
    ...overrides,
  };
}

export function layoutsFor(spec: TrainingJobSpec): ModelLayouts {
  return layoutsOf(architectureOf(spec));
}
