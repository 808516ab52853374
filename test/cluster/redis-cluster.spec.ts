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

/** The version whose partitioned commit the coordinator is told to hold after its record (HOLD_COMMIT_AFTER_RECORD). */
const HELD_VERSION = 2;

/**
 * Waits until the job's step reads HELD_VERSION, recorded by a fenced commit whose partitions have
 * not moved yet (the coordinator holds there); resolves with the committer's fencing token.
 */
async function commitHeldAfterRecord(cluster: TestCluster, jobId: string): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [step, committedBy] = await cluster.redis.hmget(cluster.keys.job(jobId), 'step', 'committedBy');
    if (Number(step) === HELD_VERSION && committedBy !== null) return Number(committedBy);
    assert.ok(Date.now() < deadline, `version ${HELD_VERSION} was never recorded`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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

  it('finishes a partitioned commit whose coordinator was SIGKILLed between the fenced record and the moves', () =>
    withTestCluster(
      {
        workers: 2,
        lockMs: LOCK_MS,
        redisClusterMasters: MASTERS,
        coordinatorProcess: true,
        env: { HOLD_COMMIT_AFTER_RECORD: String(HELD_VERSION) },
      },
      async (cluster) => {
        const { steps } = await expectReferenceWeights(
          cluster,
          async (jobId) => {
            const fence = await commitHeldAfterRecord(cluster, jobId);
            await cluster.coordinatorProcess.stop('SIGKILL');
            for (let p = 0; p < MASTERS; p++) {
              const keys = cluster.keys.partition(p, MASTERS);
              assert.equal(await cluster.redis.exists(keys.weightsStaged(jobId, HELD_VERSION, fence)), 1);
              assert.equal(await cluster.redis.exists(keys.weights(jobId, HELD_VERSION)), 0);
            }
            await cluster.coordinatorProcess.start();
          },
          MASTERS,
        );
        assert.deepEqual(
          steps,
          Array.from({ length: DISTURBED_JOB_STEPS }, (_, i) => i + 1),
          'every step applied exactly once',
        );
      },
    ));

  it(`restores a checkpoint of a job of ${MASTERS} partitions through the REST API and ends bitwise equal`, () =>
    withTestCluster({ workers: 2, redisClusterMasters: MASTERS }, async (cluster) => {
      const job = await cluster.submit({ ...DISTURBED_JOB, partitions: MASTERS, checkpointEvery: 3 });
      assert.equal((await cluster.waitForJob(job.id)).status, 'completed');
      for (const node of cluster.redisCluster.nodes) {
        const client = new Redis(node.url);
        await client.flushall().finally(() => client.disconnect());
      }
      const res = await cluster.request('POST', '/jobs/restore', { checkpoint: `${job.id}/step-0000003` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.step, 3);
      const done = await cluster.waitForJob(job.id);
      assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
      assert.equal(done.spec.partitions, MASTERS);
      const weights = await cluster.weights(layouts, job.id, DISTURBED_JOB_STEPS);
      const reference = await referenceTraining(done.spec, DISTURBED_JOB_STEPS, cluster.dataRoot);
      assert.equal(maxAbsDifference(weights.params, reference.params), 0, 'parameters differ');
      assert.equal(maxAbsDifference(weights.state, reference.state), 0, 'running statistics differ');
    }));
});
