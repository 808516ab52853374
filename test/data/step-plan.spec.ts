import assert from 'node:assert/strict';
import {
  DatasetError,
  evalShards,
  largestShardSize,
  shardRange,
  shardSamples,
  StepPlan,
  stepSamples,
  stepsPerEpoch,
} from '@resnet/data';

describe('data/step-plan', () => {
  const plan: StepPlan = { datasetSize: 103, batchSize: 10, shardsPerStep: 4, seed: 21 };

  it('drops the last partial batch', () => {
    assert.equal(stepsPerEpoch(plan), 10);
    assert.throws(() => stepsPerEpoch({ ...plan, datasetSize: 9 }), DatasetError);
    assert.throws(
      () => stepsPerEpoch({ ...plan, shardsPerStep: 11 }),
      /11 shards per step cannot split a batch of 10/,
    );
  });

  it('visits each sample at most once per epoch, all but the remainder, in a new order each epoch', () => {
    for (const epoch of [0, 1]) {
      const seen = new Set<number>();
      for (let step = epoch * 10; step < epoch * 10 + 10; step++) {
        const samples = stepSamples(plan, step);
        assert.equal(samples.epoch, epoch);
        assert.equal(samples.indices.length, 10);
        samples.indices.forEach((index) => seen.add(index));
      }
      assert.equal(seen.size, 100);
      assert.ok([...seen].every((index) => index < 103));
    }
    assert.notDeepEqual(stepSamples(plan, 0).indices, stepSamples(plan, 10).indices);
    assert.deepEqual(stepSamples(plan, 7), stepSamples({ ...plan }, 7));
  });

  it('splits a batch into contiguous shards, the first ones one larger', () => {
    const sizes = [0, 1, 2, 3].map((shard) => {
      const { start, end } = shardRange(plan, shard);
      return end - start;
    });
    assert.deepEqual(sizes, [3, 3, 2, 2]);
    assert.equal(largestShardSize(plan), Math.max(...sizes));
    for (const step of [0, 5, 13]) {
      const shards = [0, 1, 2, 3].map((shard) => [...shardSamples(plan, step, shard)]);
      assert.deepEqual(shards.flat(), [...stepSamples(plan, step).indices]);
    }
    assert.throws(() => shardSamples(plan, 0, 4), RangeError);
  });

  it('splits an evaluation set into ranges', () => {
    assert.deepEqual(evalShards(10, 4), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    assert.deepEqual(evalShards(8, 4).length, 2);
    assert.deepEqual(evalShards(0, 4), []);
    assert.throws(() => evalShards(10, 0), DatasetError);
  });
});
