import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestCluster } from '../support/test-cluster';

/** The real CIFAR-10 (class folders of JPEGs) in ../shared beside the checkout; never copied into the repo. */
const SHARED_DATA = process.env.SHARED_DATA_DIR ?? path.resolve(__dirname, '../../../../shared/data');
const ARCHIVE = 'cifar10-images.tar.gz';

describe('real CIFAR-10', function () {
  let cluster: TestCluster;
  before(async function () {
    if (!fs.existsSync(path.join(SHARED_DATA, ARCHIVE))) {
      console.log(`    skipped: ${path.join(SHARED_DATA, ARCHIVE)} is not on this machine`);
      this.skip();
    }
    cluster = await TestCluster.start({ workers: 2, dataRoot: SHARED_DATA });
  });
  after(async () => cluster?.stop());

  it('trains one step of ResNet-20 on the image-folder archive', async () => {
    const job = await cluster.submit({
      model: 'resnet20',
      dataset: { kind: 'folder', path: ARCHIVE },
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
