import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { initComputeBackend } from '@resnet/engine';
import { EmbeddedRedis } from '@resnet/local-cluster';
import { architectureFor, layoutsOf } from '@resnet/model';
import { DISTURBED_JOB, DISTURBED_JOB_STEPS } from '../support/disturbed-job';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { TestCluster, withTestCluster } from '../support/test-cluster';

const MASTERS = 3;
/** Short shard locks, so that a shard lost with a restarting master is re-delivered within seconds. */
const LOCK_MS = 3000;
const layouts = layoutsOf(
  architectureFor(DISTURBED_JOB.model, { numClasses: DISTURBED_JOB.dataset.numClasses }),
);

/** Every key on one master, read from that master alone. */
async function keysOn(node: EmbeddedRedis): Promise<string[]> {
  const client = new Redis(node.url);
  try {
    return await client.keys('*');
  } finally {
    client.disconnect();
  }
}

/**
 * Runs DISTURBED_JOB split into `partitions`, disturbed by `disturb` once it has started, and checks
 * that it completes with the very bits of single-process SGD over the same shards (the wasm backend
 * is deterministic). Resolves with the job's id and the steps its metrics list, read before the
 * reference training blocks this process (and the coordinator in it) for seconds.
 */
async function expectReferenceWeights(
  cluster: TestCluster,
  disturb: (jobId: string) => Promise<void> = async () => undefined,
  partitions = 1,
): Promise<{ jobId: string; steps: number[] }> {
  const job = await cluster.submit({ ...DISTURBED_JOB, partitions });
  await disturb(job.id);
  const done = await cluster.waitForJob(job.id);
  assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
  assert.equal(done.spec.partitions, partitions);
  const metrics = (await cluster.request('GET', `/jobs/${job.id}/metrics`)).body;
  const weights = await cluster.weights(layouts, job.id, DISTURBED_JOB_STEPS);
  const reference = await referenceTraining(done.spec, DISTURBED_JOB_STEPS, cluster.dataRoot);
  assert.equal(maxAbsDifference(weights.params, reference.params), 0, 'parameters differ');
  assert.equal(maxAbsDifference(weights.state, reference.state), 0, 'running statistics differ');
  const initial = await referenceTraining(done.spec, 0, cluster.dataRoot);
  assert.ok(maxAbsDifference(initial.params, weights.params) > 1e-3, 'weights did not change');
  return { jobId: job.id, steps: metrics.steps.map((m: { step: number }) => m.step) };
}

describe(`training on a Redis Cluster of ${MASTERS} masters`, function () {
  before(async () => {
    await initComputeBackend('wasm');
  });

  it('ends with the weights of single-process SGD, every key (BullMQ’s too) on the master of the {test} hash tag', () =>
    withTestCluster({ workers: 2, redisClusterMasters: MASTERS }, async (cluster) => {
      assert.equal(cluster.keys.prefix, '{test}');
      await expectReferenceWeights(cluster);
      const holder = await cluster.redisCluster.nodeServing(cluster.keys.jobIndex());
      for (const node of cluster.redisCluster.nodes) {
        const keys = await keysOn(node);
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
    }));

  it(`splits a job into ${MASTERS} partitions, each partition's weights on a master of its own, and ends bitwise equal`, () =>
    withTestCluster({ workers: 2, redisClusterMasters: MASTERS }, async (cluster) => {
      const { jobId } = await expectReferenceWeights(cluster, undefined, MASTERS);
      const holders = new Set<number>();
      for (let p = 0; p < MASTERS; p++) {
        const key = cluster.keys.partition(p, MASTERS).weights(jobId, DISTURBED_JOB_STEPS);
        const holder = await cluster.redisCluster.nodeServing(key);
        assert.ok((await keysOn(holder)).includes(key), `${key} on the master serving its slot`);
        holders.add(holder.port);
      }
      assert.equal(holders.size, MASTERS, 'each partition on another master');
    }));

  it('continues when the master holding the job restarts mid-training (append-only file)', () =>
    withTestCluster({ workers: 2, lockMs: LOCK_MS, redisClusterMasters: MASTERS }, async (cluster) => {
      const { steps } = await expectReferenceWeights(cluster, async (jobId) => {
        const deadline = Date.now() + 120_000;
        while ((await cluster.request('GET', `/jobs/${jobId}`)).body.step < 2) {
          assert.ok(Date.now() < deadline, 'step 2 was never committed');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await cluster.redisCluster.restart(await cluster.redisCluster.nodeServing(cluster.keys.job(jobId)));
      });
      assert.deepEqual(
        steps,
        Array.from({ length: DISTURBED_JOB_STEPS }, (_, i) => i + 1),
        'every step applied exactly once',
      );
    }));
});
