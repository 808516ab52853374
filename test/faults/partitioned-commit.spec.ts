import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { mulberry32 } from '@resnet/data';
import { initialWeights, ModelWeights } from '@resnet/model';
import { RedisKeys, StepMetrics } from '@resnet/protocol';
import { partitionedModel, PartitionedModelCodec } from '@resnet/job';
import { BlobConnection } from '@resnet/redis-blobs';
import { EmbeddedRedis } from '@resnet/local-cluster';
import { FencedOffError } from '../../apps/coordinator/src/errors/leadership.errors';
import { FencedWriter } from '../../apps/coordinator/src/repositories/fenced-writer';
import { JobRepository } from '../../apps/coordinator/src/repositories/job.repository';
import { PartitionAggregator } from '../../apps/coordinator/src/training/aggregation/partition-aggregator';
import { layoutsFor, testSpec } from '../../apps/coordinator/test/fakes';

const spec = testSpec({ partitions: 3 });
const layouts = layoutsFor(spec);
const { partitions } = partitionedModel(spec, layouts);

function randomModel(seed: number): { weights: ModelWeights; velocity: Float32Array } {
  const random = mulberry32(seed);
  return {
    weights: initialWeights(layouts, random),
    velocity: Float32Array.from({ length: layouts.params.size }, () => random()),
  };
}

function encoded(seed: number, version: number): { weights: Buffer[]; velocity: Buffer[] } {
  const { weights, velocity } = randomModel(seed);
  return {
    weights: PartitionedModelCodec.encodeWeights(partitions, weights, { version }),
    velocity: PartitionedModelCodec.encodeVelocity(partitions, velocity),
  };
}

describe('committing the steps of a partitioned model', function () {
  let server: EmbeddedRedis;
  let redis: Redis;
  let blobs: BlobConnection;
  let jobs: JobRepository;
  const keys = new RedisKeys('t');
  const metrics = { step: 1 } as StepMetrics;

  before(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis(server.url);
    blobs = BlobConnection.open(server.url);
    jobs = new JobRepository(redis, blobs, keys, new FencedWriter(redis, keys));
  });
  after(async () => {
    blobs.close();
    redis.disconnect();
    await server.destroy();
  });
  beforeEach(async () => {
    await redis.flushall();
    await redis.set(keys.leaderToken(), '1');
    const first = encoded(1, 0);
    await jobs.create('j', spec, first.weights, first.velocity, { priority: 0, weight: 1 });
  });

  const decodedWeights = async (version: number) =>
    PartitionedModelCodec.decodeWeights(partitions, layouts, await jobs.weights('j', spec, version));

  /** What each partition's aggregator stages of version `version` when the model is randomModel(seed). */
  async function stage(seed: number, version: number, fence: number): Promise<void> {
    const { weights, velocity } = randomModel(seed);
    const memory = { ...weights, velocity };
    await Promise.all(
      partitions.map((p) =>
        new PartitionAggregator(
          p,
          partitions.length,
          spec.shardsPerStep,
          spec.shardsPerStep,
          memory,
          blobs,
          keys,
        ).stage('j', version, fence),
      ),
    );
  }

  it("moves every partition's version into place and frees the previous one and the gradients", async () => {
    const gradientKeys = partitions.map((p) => [keys.partition(p.index, 3).gradient('j', 0, 0)]);
    await Promise.all(gradientKeys.map(([key]) => redis.set(key, 'g')));
    await stage(2, 1, 1);
    await jobs.commitStep({ jobId: 'j', previous: 0, version: 1, partitions: 3, metrics, gradientKeys }, 1);
    assert.deepEqual(await decodedWeights(1), randomModel(2).weights);
    assert.deepEqual(
      PartitionedModelCodec.decodeVelocity(partitions, await jobs.velocity('j', spec)),
      randomModel(2).velocity,
    );
    for (const p of partitions) {
      const partKeys = keys.partition(p.index, 3);
      assert.equal(await redis.ttl(partKeys.weights('j', 1)), -1, 'the committed version does not expire');
      assert.equal(await redis.exists(partKeys.weights('j', 0), partKeys.gradient('j', 0, 0)), 0);
    }
    assert.equal((await jobs.get('j'))?.state.step, 1);
  });

  it('finishes a commit cut short after the step was recorded, from what its committer staged', async () => {
    // What a step leaves when its coordinator dies between commitStep's fenced record and the moves.
    await stage(3, 1, 1);
    await redis.hset(keys.job('j'), 'step', '1', 'committedBy', '1');
    assert.deepEqual(await decodedWeights(1), randomModel(3).weights);
    assert.deepEqual(
      PartitionedModelCodec.decodeVelocity(partitions, await jobs.velocity('j', spec)),
      randomModel(3).velocity,
    );
    assert.equal(await redis.exists(keys.partition(1, 3).weightsStaged('j', 1, 1)), 0);
  });

  it("refuses a deposed leader's commit and leaves only expiring staged values behind", async () => {
    await redis.set(keys.leaderToken(), '2');
    await stage(4, 1, 1);
    await assert.rejects(
      jobs.commitStep(
        { jobId: 'j', previous: 0, version: 1, partitions: 3, metrics, gradientKeys: [[], [], []] },
        1,
      ),
      FencedOffError,
    );
    assert.equal((await jobs.get('j'))?.state.step, 0);
    const partKeys = keys.partition(2, 3);
    assert.equal(await redis.exists(partKeys.weights('j', 1)), 0);
    assert.ok((await redis.ttl(partKeys.weightsStaged('j', 1, 1))) > 0);
    assert.deepEqual(await decodedWeights(0), randomModel(1).weights);
  });
});
