import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf } from '@resnet/model';
import { DISTURBED_JOB, DISTURBED_JOB_STEPS } from '../support/disturbed-job';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { TestCluster } from '../support/test-cluster';

const MASTERS = 3;
/** Short shard locks, so that a shard lost with a restarting master is re-delivered within seconds. */
const LOCK_MS = 3000;
const layouts = layoutsOf(
  architectureFor(DISTURBED_JOB.model, { numClasses: DISTURBED_JOB.dataset.numClasses }),
);

/**
 * Runs DISTURBED_JOB, disturbed by `disturb` once it has started, and checks that it completes with
 * the very bits of single-process SGD over the same shards (the wasm backend is deterministic).
 */
async function expectReferenceWeights(
  cluster: TestCluster,
  disturb: (jobId: string) => Promise<void> = async () => undefined,
): Promise<void> {
  const job = await cluster.submit(DISTURBED_JOB);
  await disturb(job.id);
  const done = await cluster.waitForJob(job.id);
  assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
  const weights = await cluster.weights(layouts, job.id, DISTURBED_JOB_STEPS);
  const reference = await referenceTraining(done.spec, DISTURBED_JOB_STEPS, cluster.dataRoot);
  assert.equal(maxAbsDifference(weights.params, reference.params), 0, 'parameters differ');
  assert.equal(maxAbsDifference(weights.state, reference.state), 0, 'running statistics differ');
  const initial = await referenceTraining(done.spec, 0, cluster.dataRoot);
  assert.ok(maxAbsDifference(initial.params, weights.params) > 1e-3, 'weights did not change');
}

describe(`training on a Redis Cluster of ${MASTERS} masters`, function () {
  before(async () => {
    await initComputeBackend('wasm');
  });

  it('ends with the weights of single-process SGD, every key (BullMQ’s too) on the master of the {test} hash tag', async () => {
    const cluster = await TestCluster.start({ workers: 2, redisClusterMasters: MASTERS });
    const clients: Redis[] = [];
    try {
      assert.equal(cluster.keys.prefix, '{test}');
      await expectReferenceWeights(cluster);
      const holder = await cluster.redisCluster.nodeServing(cluster.keys.jobIndex());
      for (const node of cluster.redisCluster.nodes) {
        const client = new Redis(node.url);
        clients.push(client);
        const keys = await client.keys('*');
        if (node !== holder) {
          assert.deepEqual(keys, [], `no key on the master at port ${node.port}`);
          continue;
        }
        assert.ok(keys.length > 0 && keys.every((key) => key.startsWith('{test}:')), keys.join(' '));
        assert.ok(
          keys.some((key) => key.startsWith('{test}:shards:')),
          'BullMQ’s keys share the tag',
        );
      }
    } finally {
      for (const client of clients) client.disconnect();
      await cluster.stop();
    }
  });

  it('continues when the master holding the job restarts mid-training (append-only file)', async () => {
    const cluster = await TestCluster.start({ workers: 2, lockMs: LOCK_MS, redisClusterMasters: MASTERS });
    try {
      await expectReferenceWeights(cluster, async (jobId) => {
        const deadline = Date.now() + 120_000;
        while ((await cluster.request('GET', `/jobs/${jobId}`)).body.step < 2) {
          assert.ok(Date.now() < deadline, 'step 2 was never committed');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const holder = await cluster.redisCluster.nodeServing(cluster.keys.job(jobId));
        await cluster.redisCluster.restart(holder);
      });
      const job = (await cluster.request('GET', '/jobs')).body[0];
      const { steps } = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
      assert.deepEqual(
        steps.map((s: { step: number }) => s.step),
        Array.from({ length: DISTURBED_JOB_STEPS }, (_, i) => i + 1),
        'every step applied exactly once',
      );
    } finally {
      await cluster.stop();
    }
  });
});
