import * as assert from 'node:assert/strict';
import { StepMetrics } from '@resnet/protocol';
import { TestCluster } from './test-cluster';

/** A ResNet-20 job that learns the generated 4-class dataset in 32 steps on 2 shards: tests vary one field. */
export const GENERATED_LEARNING_JOB = {
  model: 'resnet20',
  dataset: { kind: 'synthetic', trainSize: 512, testSize: 128, imageSize: 16, numClasses: 4 },
  batchSize: 32,
  shardsPerStep: 2,
  epochs: 2,
  schedule: { decay: 'cosine', warmupEpochs: 0.2 },
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Waits for the job and checks that it learned: its loss over the last 4 global steps is under
 * half that of the first 4, and its final test accuracy is at least `minAccuracy` (chance is 0.25).
 * Returns its step metrics.
 */
export async function expectLearned(
  cluster: TestCluster,
  jobId: string,
  minAccuracy = 0.6,
): Promise<StepMetrics[]> {
  const done = await cluster.waitForJob(jobId);
  assert.equal(done.status, 'completed', done.error);
  const { steps, evals } = (await cluster.request('GET', `/jobs/${jobId}/metrics`)).body;
  assert.equal(evals.length, 2, 'one evaluation per epoch');
  // By global step: a record of a local-SGD round covers several, its loss their mean.
  const total = steps[steps.length - 1].step;
  const first = mean(steps.filter((s: StepMetrics) => s.step <= 4).map((s: StepMetrics) => s.loss));
  const last = mean(steps.filter((s: StepMetrics) => s.step > total - 4).map((s: StepMetrics) => s.loss));
  assert.ok(last < first * 0.5, `loss fell only from ${first} to ${last}`);
  const accuracy = evals[evals.length - 1].accuracy;
  assert.ok(accuracy >= minAccuracy, `test accuracy ${accuracy} is below ${minAccuracy} (chance is 0.25)`);
  return steps;
}
