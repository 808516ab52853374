import * as assert from 'node:assert/strict';
import { TestCluster } from '../support/test-cluster';

const STEPS = 32;

describe('learning on a generated dataset', function () {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ workers: 2 });
  });
  after(async () => cluster.stop());

  /** Trains ResNet-20 for 2 epochs; the mean loss of the first and last 4 global steps, and the final test accuracy. */
  async function train(localSteps: number): Promise<{ first: number; last: number; accuracy: number }> {
    const job = await cluster.submit({
      model: 'resnet20',
      dataset: { kind: 'synthetic', trainSize: 512, testSize: 128, imageSize: 16, numClasses: 4 },
      batchSize: 32,
      shardsPerStep: 2,
      localSteps,
      epochs: 2,
      schedule: { decay: 'cosine', warmupEpochs: 0.2 },
    });
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', done.error);
    const { steps, evals } = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
    assert.equal(steps.length, STEPS / localSteps, 'one record per weights version');
    assert.equal(evals.length, 2, 'one evaluation per epoch');
    // A record's loss is the mean over the global steps it covers (a local-SGD round covers several).
    const mean = (records: any[]) => records.reduce((a, s) => a + s.loss, 0) / records.length;
    const first = mean(steps.filter((s: any) => s.step <= 4));
    const last = mean(steps.filter((s: any) => s.step > STEPS - 4));
    return { first, last, accuracy: evals[evals.length - 1].accuracy };
  }

  it('ResNet-20 reaches test accuracy well above chance and its loss falls', async () => {
    const { first, last, accuracy } = await train(1);
    assert.ok(last < first * 0.5, `loss fell only from ${first} to ${last}`);
    assert.ok(accuracy >= 0.6, `test accuracy ${accuracy} is not clearly above chance (0.25)`);
  });

  it('with local SGD (4 local steps per round) it clears the same bar', async () => {
    const { first, last, accuracy } = await train(4);
    assert.ok(last < first * 0.5, `loss fell only from ${first} to ${last}`);
    assert.ok(accuracy >= 0.6, `test accuracy ${accuracy} is not clearly above chance (0.25)`);
  });
});
