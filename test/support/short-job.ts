/** Steps of SHORT_JOB. */
export const SHORT_JOB_STEPS = 3;

/**
 * A few steps of the full ResNet-20 on small generated images (8×8, 4 classes), 4 shards a step:
 * for tests that compare a cluster's run of a job with another run. Tests that need more vary it.
 */
export const SHORT_JOB = {
  model: 'resnet20',
  dataset: { kind: 'synthetic', trainSize: 128, testSize: 32, imageSize: 8, numClasses: 4, seed: 3 },
  batchSize: 16,
  shardsPerStep: 4,
  maxSteps: SHORT_JOB_STEPS,
  seed: 11,
  lr: 0.1,
  schedule: { decay: 'cosine', warmupEpochs: 0.25 },
  evalEvery: 0,
};
