import * as assert from 'node:assert/strict';
import { requireDependency, SHARED_CIFAR } from '../support/optional-dependency';
import { TestCluster } from '../support/test-cluster';

describe('real CIFAR-10', function () {
  let cluster: TestCluster;
  before(async function () {
    requireDependency(this, SHARED_CIFAR);
    cluster = await TestCluster.start({ workers: 2, dataRoot: SHARED_CIFAR.root });
  });
  after(async () => cluster?.stop());

  it('trains one step of ResNet-20 on the image-folder archive', async () => {
    const job = await cluster.submit({
      model: 'resnet20',
      dataset: { kind: 'folder', path: SHARED_CIFAR.archive },
      batchSize: 64,
      shardsPerStep: 2,
      maxSteps: 1,
      evalEvery: 0,
    });
    assert.equal(job.spec.trainSize, 50000);
    assert.equal(job.spec.testSize, 10000);
    assert.equal(job.spec.numClasses, 10);
    assert.deepEqual(job.spec.imageShape, [32, 32]);
    // CIFAR-10's well-known channel means, computed here from the training images.
    job.spec.normalization.mean.forEach((m: number, c: number) =>
      assert.ok(Math.abs(m - [0.491, 0.482, 0.447][c]) < 0.01),
    );
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', done.error);
    const { steps } = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
    assert.equal(steps.length, 1);
    // Untrained 10-way classifier: cross-entropy near ln 10.
    assert.ok(steps[0].loss > 1.5 && steps[0].loss < 4, `loss ${steps[0].loss}`);
  });
});
