import { ConsoleLogger, Logger } from '@nestjs/common';
import { layoutsOf, ModelLayouts } from '@resnet/model';
import { architectureOf, TrainingJobSpec } from '@resnet/job';

// What the coordinator's unit tests share besides the fakes, which mirror src/ one per file:
// test/<path of the faked class>.mock.ts.

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

/** Keeps the services' Nest log lines out of mocha's report while the calling suite runs. */
export function quietNestLogs(): void {
  before(() => Logger.overrideLogger(false));
  after(() => Logger.overrideLogger(new ConsoleLogger()));
}
