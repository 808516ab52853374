import * as assert from 'node:assert/strict';
import { TestCluster } from '../support/test-cluster';

describe('learning on a generated dataset', function () {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ workers: 2 });
  });
  after(async () => cluster.stop());

  it('ResNet-20 reaches test accuracy well above chance and its loss falls', async () => {
    const job = await cluster.submit({
      model: 'resnet20',
      dataset: { kind: 'synthetic', trainSize: 512, testSize: 128, imageSize: 16, numClasses: 4 },
      batchSize: 32,
      shardsPerStep: 2,
      epochs: 2,
      schedule: { decay: 'cosine', warmupEpochs: 0.2 },
    });
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', done.error);
    const { steps, evals } = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
    assert.equal(steps.length, 32);
    assert.equal(evals.length, 2, 'one evaluation per epoch');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(steps.slice(0, 4).map((s: any) => s.loss));
    const last = mean(steps.slice(-4).map((s: any) => s.loss));
    assert.ok(last < first * 0.5, `loss fell only from ${first} to ${last}`);
    const accuracy = evals[evals.length - 1].accuracy;
    assert.ok(accuracy >= 0.6, `test accuracy ${accuracy} is not clearly above chance (0.25)`);
  });
});
