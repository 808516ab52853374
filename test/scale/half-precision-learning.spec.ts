import * as assert from 'node:assert/strict';
import { architectureFor, layoutsOf } from '@resnet/model';
import { expectLearned, GENERATED_LEARNING_JOB } from '../support/generated-learning-job';
import { TestCluster, useTestCluster } from '../support/test-cluster';

describe('learning with half-precision gradients', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 2 }, (started) => (cluster = started));

  it('ResNet-20 with bf16 gradients and error feedback still learns the generated dataset', async () => {
    const job = await cluster.submit({ ...GENERATED_LEARNING_JOB, gradientEncoding: 'bf16' });
    assert.equal(job.spec.gradientEncoding, 'bf16');
    const steps = await expectLearned(cluster, job.id);
    assert.equal(steps.length, 32);
    const fp32Bytes = 4 * layoutsOf(architectureFor('resnet20', { numClasses: 4 })).params.size;
    const perShard = steps[0].gradientBytes! / 2;
    assert.ok(
      perShard < 0.55 * fp32Bytes,
      `a bf16 gradient message has ${perShard} bytes, not about half of fp32's ${fp32Bytes}`,
    );
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
