import * as assert from 'node:assert/strict';
import { StepMetrics } from '@resnet/protocol';
import { PartitionedModelCodec } from '@resnet/job';
import { JobDataMissingError } from '../../apps/coordinator/src/errors/job.errors';
import { testSpec } from '../support/test-job-spec';
import { StoredJob } from './stored-job';

describe('committing the steps of a partitioned model', function () {
  let stored: StoredJob;
  const metrics = { step: 1 } as StepMetrics;

  before(async () => {
    stored = await StoredJob.start(testSpec({ partitions: 3 }));
  });
  after(async () => stored?.stop());
  beforeEach(async () => stored.reset());

  it("moves every partition's version into place and frees the previous one and the gradients", async () => {
    const { keys, redis, jobs, partitions } = stored;
    const gradientKeys = partitions.map((p) => [keys.partition(p.index, 3).gradient('j', 0, 0)]);
    await Promise.all(gradientKeys.map(([key]) => redis.set(key, 'g')));
    await stored.stage(2, 1, 1);
    await jobs.commitStep({ jobId: 'j', previous: 0, version: 1, partitions: 3, metrics, gradientKeys }, 1);
    assert.deepEqual(await stored.decodedWeights(1), stored.randomModel(2).weights);
    assert.deepEqual(
      PartitionedModelCodec.decodeVelocity(partitions, await jobs.velocity('j', stored.spec)),
      stored.randomModel(2).velocity,
    );
    for (const p of partitions) {
      const partKeys = keys.partition(p.index, 3);
      assert.equal(await redis.ttl(partKeys.weights('j', 1)), -1, 'the committed version does not expire');
      assert.equal(await redis.exists(partKeys.weights('j', 0), partKeys.gradient('j', 0, 0)), 0);
    }
    assert.equal((await jobs.get('j'))?.state.step, 1);
  });

  it('finishes a commit cut short after the step was recorded, from what its committer staged', async () => {
    const { keys, redis, jobs, partitions } = stored;
    // What a step leaves when its coordinator dies between commitStep's fenced record and the moves.
    await stored.stage(3, 1, 1);
    await redis.hset(keys.job('j'), 'step', '1', 'committedBy', '1');
    assert.deepEqual(await stored.decodedWeights(1), stored.randomModel(3).weights);
    assert.deepEqual(
      PartitionedModelCodec.decodeVelocity(partitions, await jobs.velocity('j', stored.spec)),
      stored.randomModel(3).velocity,
    );
    assert.equal(await redis.exists(keys.partition(1, 3).weightsStaged('j', 1, 1)), 0);
  });

  // Redis runs the rest of a MULTI after a RENAME of a missing key fails, and undoes nothing.
  it('moves nothing of a partition whose staged optimizer state is gone, and says so', async () => {
    const { keys, redis, jobs } = stored;
    await stored.stage(5, 1, 1);
    const lost = keys.partition(1, 3);
    await redis.del(lost.momentumStaged('j', 1, 1));
    const before = await redis.getBuffer(lost.momentum('j'));
    await assert.rejects(
      jobs.commitStep(
        { jobId: 'j', previous: 0, version: 1, partitions: 3, metrics, gradientKeys: [[], [], []] },
        1,
      ),
      JobDataMissingError,
    );
    assert.equal(await redis.exists(lost.weights('j', 1)), 0, 'its staged weights were not moved');
    assert.equal(await redis.exists(lost.weightsStaged('j', 1, 1)), 1);
    assert.equal(await redis.exists(lost.weights('j', 0)), 1, 'its previous version was not freed');
    assert.deepEqual(await redis.getBuffer(lost.momentum('j')), before);
    // The other partitions moved; reading the version names the missing one rather than half-moving it.
    assert.equal(await redis.exists(keys.partition(0, 3).weights('j', 1)), 1);
    await assert.rejects(stored.decodedWeights(1), /weights version 1 of job j are missing/);
    assert.equal(await redis.exists(lost.weightsStaged('j', 1, 1)), 1);
  });
});

describe('committing the step of a whole model', function () {
  let stored: StoredJob;
  const metrics = { step: 1 } as StepMetrics;

  before(async () => {
    stored = await StoredJob.start(testSpec());
  });
  after(async () => stored?.stop());
  beforeEach(async () => stored.reset());

  it('records nothing when the staged version is gone, and says so', async () => {
    const { keys, redis, jobs } = stored;
    await stored.stage(6, 1, 1);
    await redis.del(keys.partition(0, 1).momentumStaged('j', 1, 1));
    const before = await stored.snapshot();
    await assert.rejects(
      jobs.commitStep({ jobId: 'j', previous: 0, version: 1, partitions: 1, metrics, gradientKeys: [[]] }, 1),
      JobDataMissingError,
    );
    assert.deepEqual(await stored.snapshot(), before);
  });
});
