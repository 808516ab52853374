import * as assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { SHARD_QUEUE, shardTaskProblem } from '@resnet/protocol';
import { TestCluster, useTestCluster } from '../support/test-cluster';

const SMALL = {
  dataset: { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 2 },
  batchSize: 16,
  shardsPerStep: 2,
  epochs: 1,
};
/** Short locks: an entry BullMQ could not parse would come back after one. */
const LOCK_MS = 1000;

describe('shard queue entries that are no shard task', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 1, lockMs: LOCK_MS }, (started) => (cluster = started));

  it('names what is wrong with a queue entry', () => {
    assert.equal(shardTaskProblem({ kind: 'train', jobId: 'ab12', step: 3, shard: 0 }), null);
    assert.equal(shardTaskProblem(null), 'holds no JSON object');
    assert.equal(shardTaskProblem({ kind: 'grad', jobId: 'ab12' }), 'has a kind other than train or eval');
    assert.equal(
      shardTaskProblem({ kind: 'eval', jobId: 'ab12', version: 1, shard: 0 }),
      'has no valid start, end',
    );
  });

  for (const [what, data] of [
    ['not JSON', '{"kind": "train", "jobId"'],
    ['JSON but no shard task', '{"kind": "train"}'],
  ] as const) {
    it(`fails an entry whose data is ${what} once, without retries, and keeps serving shards`, async () => {
      const queue = new Queue(SHARD_QUEUE, {
        connection: cluster.connections.bullConnection(cluster.redis),
        prefix: 'test',
      });
      try {
        // Delayed, so that its data can be spoiled before a worker may take it.
        const entry = await queue.add('train', {}, { delay: 500, attempts: 5 });
        await cluster.redis.hset(`test:${SHARD_QUEUE}:${entry.id}`, 'data', data);
        const deadline = Date.now() + 60_000;
        while ((await queue.getJobState(entry.id!)) !== 'failed') {
          assert.ok(Date.now() < deadline, 'the entry was never failed');
          await new Promise((r) => setTimeout(r, 100));
        }
        // Past a few lock periods, it has neither been retried nor put back by the stalled-job check.
        await new Promise((r) => setTimeout(r, 3 * LOCK_MS));
        assert.equal(await queue.getJobState(entry.id!), 'failed');
        // Read raw: BullMQ's getJob would parse the data too.
        const [reason, attempts, stalled] = await cluster.redis.hmget(
          `test:${SHARD_QUEUE}:${entry.id}`,
          'failedReason',
          'atm',
          'stc',
        );
        assert.match(reason!, /it is not retried/);
        assert.equal(attempts, '1');
        assert.ok(!stalled || stalled === '0', `stalled ${stalled} times`);
        const job = await cluster.submit(SMALL);
        assert.equal((await cluster.waitForJob(job.id)).status, 'completed');
      } finally {
        await queue.close();
      }
    });
  }
});
