import * as assert from 'node:assert/strict';
import { expectLearned, GENERATED_LEARNING_JOB } from '../support/generated-learning-job';
import { TestCluster, useTestCluster } from '../support/test-cluster';

describe('learning on a generated dataset', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 2 }, (started) => (cluster = started));

  it('ResNet-20 reaches test accuracy well above chance and its loss falls', async () => {
    const job = await cluster.submit(GENERATED_LEARNING_JOB);
    const steps = await expectLearned(cluster, job.id);
    assert.equal(steps.length, 32);
  });

  it('with local SGD (4 local steps per round) it clears the same bar', async () => {
    const job = await cluster.submit({ ...GENERATED_LEARNING_JOB, localSteps: 4 });
    const steps = await expectLearned(cluster, job.id);
    assert.equal(steps.length, 32 / 4, 'one record per weights version');
  });
});
