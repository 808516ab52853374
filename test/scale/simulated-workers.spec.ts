import * as assert from 'node:assert/strict';
import { SHARD_QUEUE, StepMetrics, VersionAnnouncement } from '@resnet/protocol';
import { TestCluster, useTestCluster } from '../support/test-cluster';

/** Runs a job to completion; `onVersion` hears of each weights version as it is announced. */
async function run(
  cluster: TestCluster,
  job: Record<string, unknown>,
  onVersion?: (version: number) => void,
): Promise<StepMetrics[]> {
  const announcements = cluster.connections.client();
  if (onVersion) {
    announcements.on('message', (_channel, message) =>
      onVersion((JSON.parse(message) as VersionAnnouncement).version),
    );
    await announcements.subscribe(cluster.keys.versionChannel());
  }
  try {
    const created = await cluster.submit(job);
    const done = await cluster.waitForJob(created.id);
    assert.equal(done.status, 'completed', done.error);
    return (await cluster.request('GET', `/jobs/${created.id}/metrics`)).body.steps;
  } finally {
    announcements.disconnect();
  }
}

describe('simulated workers for the scaling benchmark', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 3, simulateComputeMs: 5 }, (started) => (cluster = started));

  it('train a job through the real coordinator with real message traffic, timing each phase', async () => {
    const steps: StepMetrics[] = await run(cluster, {
      model: 'resnet20',
      dataset: { kind: 'synthetic', trainSize: 96, testSize: 16, imageSize: 8, numClasses: 10 },
      batchSize: 96,
      shardsPerStep: 3,
      epochs: 12,
      lr: 0.1,
      evalEvery: 0,
      checkpointEvery: 0,
    });
    assert.equal(steps.length, 12);
    for (const s of steps) {
      assert.ok(
        Number.isFinite(s.loss) && s.slowestShardMs >= 5,
        `step ${s.step}: loss ${s.loss}, compute ${s.slowestShardMs} ms`,
      );
      assert.equal(s.gradientBytes! > 3 * 4 * 270_000, true, 'three fp32 ResNet-20 messages');
      for (const field of [
        'enqueueMs',
        'weightFetchMs',
        'uploadMs',
        'lastArrivalMs',
        'aggregateMs',
        'optimizerMs',
      ] as const) {
        assert.ok(s[field]! >= 0, `step ${s.step} has ${field}`);
      }
    }
    assert.ok(
      steps.slice(1).every((s) => s.publishMs! > 0),
      'every step after the first reports the previous publication',
    );
    // Nothing is left behind: gradient blobs are freed at each commit, completed shards trimmed.
    const keys = await cluster.redis.keys(`${cluster.keys.prefix}:job:*:grad:*`);
    assert.deepEqual(keys, []);
    assert.ok((await cluster.redis.zcard(`${cluster.keys.prefix}:${SHARD_QUEUE}:completed`)) <= 2 * 3);
  });

  it('simulate local SGD: a round sleeps its compute once per local step and sends a delta message', async () => {
    const versions: number[] = [];
    const steps: StepMetrics[] = await run(
      cluster,
      {
        model: 'resnet20',
        dataset: { kind: 'synthetic', trainSize: 96, testSize: 16, imageSize: 8, numClasses: 10 },
        batchSize: 96,
        shardsPerStep: 3,
        localSteps: 4,
        epochs: 10,
        evalEvery: 0,
        checkpointEvery: 0,
      },
      (version) => versions.push(version),
    );
    assert.deepEqual(
      steps.map((s) => s.step),
      [4, 8, 10],
    );
    assert.deepEqual(versions, [0, 4, 8], 'each round announces the version it computes against');
    steps.forEach((s, i) => {
      const localSteps = i < 2 ? 4 : 2;
      assert.ok(s.slowestShardMs >= 5 * localSteps, `round to ${s.step}: compute ${s.slowestShardMs} ms`);
      assert.ok(Number.isFinite(s.loss), `round to ${s.step}: loss ${s.loss}`);
      assert.equal(s.gradientBytes! > 3 * 4 * 270_000, true, 'three fp32 ResNet-20 messages');
    });
  });
});
