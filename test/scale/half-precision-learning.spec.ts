import * as assert from 'node:assert/strict';
import { architectureFor, layoutsOf } from '@resnet/model';
import { TestCluster } from '../support/test-cluster';

describe('learning with half-precision gradients', function () {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ workers: 2 });
  });
  after(async () => cluster.stop());

  it('ResNet-20 with bf16 gradients and error feedback still learns the generated dataset', async () => {
    // The job of test/cluster/learning.spec.ts, with gradients sent as bf16.
    const job = await cluster.submit({
      model: 'resnet20',
      dataset: { kind: 'synthetic', trainSize: 512, testSize: 128, imageSize: 16, numClasses: 4 },
      batchSize: 32,
      shardsPerStep: 2,
      epochs: 2,
      schedule: { decay: 'cosine', warmupEpochs: 0.2 },
      gradientEncoding: 'bf16',
    });
    assert.equal(job.spec.gradientEncoding, 'bf16');
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', done.error);
    const { steps, evals } = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
    assert.equal(steps.length, 32);
    const fp32Bytes = 4 * layoutsOf(architectureFor('resnet20', { numClasses: 4 })).params.size;
    const perShard = steps[0].gradientBytes / 2;
    assert.ok(
      perShard < 0.55 * fp32Bytes,
      `a bf16 gradient message has ${perShard} bytes, not about half of fp32's ${fp32Bytes}`,
    );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(steps.slice(0, 4).map((s: any) => s.loss));
    const last = mean(steps.slice(-4).map((s: any) => s.loss));
    assert.ok(last < first * 0.5, `loss fell only from ${first} to ${last}`);
    const accuracy = evals[evals.length - 1].accuracy;
    assert.ok(accuracy >= 0.6, `test accuracy ${accuracy} is not clearly above chance (0.25)`);
  });

  it('rejects an unknown gradient encoding', async () => {
    const res = await cluster.request('POST', '/jobs', {
      dataset: { kind: 'synthetic' },
      gradientEncoding: 'int8',
    });
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /gradientEncoding/);
  });
});
