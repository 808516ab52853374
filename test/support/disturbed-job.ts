import { SHORT_JOB } from './short-job';

/** Steps of DISTURBED_JOB: enough to disturb it mid-run (kill, preempt) and still compare its end. */
export const DISTURBED_JOB_STEPS = 6;

/**
 * SHORT_JOB on more and larger images, run longer: for tests that disturb a run (worker or
 * coordinator killed, job preempted) and compare its final weights bitwise with an undisturbed run.
 */
export const DISTURBED_JOB = {
  ...SHORT_JOB,
  dataset: { ...SHORT_JOB.dataset, trainSize: 256, imageSize: 16, seed: 5 },
  batchSize: 32,
  maxSteps: DISTURBED_JOB_STEPS,
  seed: 21,
};
