/** Steps of DISTURBED_JOB: enough to disturb it mid-run (kill, preempt) and still compare its end. */
export const DISTURBED_JOB_STEPS = 6;

/**
 * A small ResNet-20 job on generated data for tests that disturb a run (worker or coordinator
 * killed, job preempted) and compare its final weights bitwise with an undisturbed run.
 */
export const DISTURBED_JOB = {
  model: 'resnet20',
  dataset: { kind: 'synthetic', trainSize: 256, testSize: 32, imageSize: 16, numClasses: 4, seed: 5 },
  batchSize: 32,
  shardsPerStep: 4,
  maxSteps: DISTURBED_JOB_STEPS,
  seed: 21,
  schedule: { decay: 'cosine', warmupEpochs: 0.25 },
  evalEvery: 0,
};
