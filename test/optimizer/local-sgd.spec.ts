import * as assert from 'node:assert/strict';
import {
  applyRoundInPlace,
  BATCH_NORM_MOMENTUM,
  LocalSgdRound,
  poolBatchStats,
  sgdStep,
  StepAggregator,
  updateRunningStats,
} from '@resnet/optimizer';

function batch(gradientSum: number[], count: number, stats: number[]) {
  return {
    gradientSum: Float32Array.from(gradientSum),
    batchStats: Float32Array.from(stats),
    count,
    lossSum: count * 0.5,
    correct: 1,
  };
}

function bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

describe('local SGD', () => {
  it('a round takes SGD steps with mean gradients and zero starting momentum, hand-computed', () => {
    // One batch-norm channel: state [running mean, running variance].
    const start = { params: Float32Array.from([1]), state: Float32Array.from([0, 1]) };
    const round = new LocalSgdRound(start, { momentum: 0.5, weightDecay: 0, nesterov: false });
    round.step(batch([2], 2, [2, 4]), 0.1); // mean gradient 1: v = 1, w = 0.9
    round.step(batch([4], 2, [3, 5]), 0.1); // mean gradient 2: v = 0.5 + 2, w = 0.9 - 0.25
    assert.ok(Math.abs(round.weights.params[0] - 0.65) < 1e-6, `${round.weights.params}`);
    const result = round.result();
    assert.ok(Math.abs(result.gradientSum[0] - 4 * (1 - 0.65)) < 1e-5, `${result.gradientSum}`);
    // The batch statistics sent are the first step's: those of the round's weights.
    assert.deepEqual(Array.from(result.batchStats), [2, 4]);
    assert.deepEqual([result.count, result.lossSum, result.correct], [4, 2, 2]);
    assert.deepEqual(Array.from(start.params), [1], 'the start weights are left as they were');
  });

  it('one shard with one local step makes the SGD step of synchronous training from zero momentum', () => {
    const start = { params: Float32Array.from([0.3, -1.2, 2]), state: Float32Array.from([0.1, 0.2, 1, 3]) };
    const sgd = { momentum: 0.9, weightDecay: 1e-4, nesterov: true };
    const shard = batch([0.6, -0.9, 3], 3, [0.5, -0.5, 2, 1]);
    const round = new LocalSgdRound(start, sgd);
    round.step(shard, 0.05);
    const aggregator = new StepAggregator(3, 1, [2]);
    aggregator.add(0, round.result());
    const combined = { params: start.params.slice(), state: start.state.slice() };
    assert.equal(applyRoundInPlace(combined, aggregator.roundResult(1), 1, [2]), true);

    const expected = { params: start.params.slice(), state: start.state.slice() };
    sgdStep(
      expected.params,
      shard.gradientSum.map((g) => g / 3),
      new Float32Array(3),
      0.05,
      sgd,
    );
    updateRunningStats(expected.state, { count: 3, stats: shard.batchStats }, [2]);
    for (const part of ['params', 'state'] as const) {
      combined[part].forEach((value, i) =>
        assert.ok(
          Math.abs(value - expected[part][i]) < 1e-6,
          `${part}: ${combined[part]} vs ${expected[part]}`,
        ),
      );
    }
  });

  it("the combined round is the sample-weighted mean of the shards' weights; its statistics are the round weights', pooled", () => {
    const start = { params: Float32Array.from([1, -1]), state: Float32Array.from([0, 1]) };
    const shards = [
      [batch([2, 1], 2, [1, 2]), batch([-1, 3], 2, [0.5, 1])],
      [batch([6, -6], 6, [-1, 4]), batch([0.6, 1.2], 6, [2, 0.5])],
    ];
    const aggregator = new StepAggregator(2, 2, [1]);
    const ends = shards.map((batches, shard) => {
      const round = new LocalSgdRound(start, { momentum: 0.9, weightDecay: 1e-3, nesterov: false });
      for (const b of batches) round.step(b, 0.1);
      aggregator.add(shard, round.result());
      return round.weights.params.slice();
    });
    const next = { params: start.params.slice(), state: start.state.slice() };
    applyRoundInPlace(next, aggregator.roundResult(2), 2, [1]);
    const weights = [4, 12]; // each shard's samples over its two local steps
    next.params.forEach((value, i) => {
      const mean = (weights[0] * ends[0][i] + weights[1] * ends[1][i]) / 16;
      assert.ok(Math.abs(value - mean) < 1e-6, `params[${i}]: ${value} vs ${mean}`);
    });
    // The first steps' statistics (batches of 2 and 6) pooled into one batch of 8, applied with the
    // momentum of two synchronous updates.
    const pooled = poolBatchStats(
      [
        { count: 2, stats: shards[0][0].batchStats },
        { count: 6, stats: shards[1][0].batchStats },
      ],
      [1],
    );
    assert.equal(pooled.count, 8);
    const expected = start.state.slice();
    updateRunningStats(expected, pooled, [1], 1 - (1 - BATCH_NORM_MOMENTUM) ** 2);
    next.state.forEach((value, i) =>
      assert.ok(Math.abs(value - expected[i]) < 1e-6, `state[${i}]: ${value} vs ${expected[i]}`),
    );
  });

  it('combines shards bitwise the same whatever order they arrive in', () => {
    const values = (seed: number, n: number) =>
      Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i) / 3);
    const results = [3, 5, 8].map((count, k) => batch(values(k, 64), count, values(k + 10, 4)));
    const combined = [
      [0, 1, 2],
      [2, 0, 1],
      [1, 2, 0],
    ].map((order) => {
      const aggregator = new StepAggregator(64, 3, [2]);
      for (const k of order) aggregator.add(k, results[k]);
      const round = aggregator.roundResult(1);
      return { params: bytes(round.paramsDelta.slice()), state: bytes(round.batchStats.stats) };
    });
    assert.deepEqual(combined[1], combined[0]);
    assert.deepEqual(combined[2], combined[0]);
    // And it is the weighted mean: the parameter parts are already weighted by their samples.
    const first = new Float32Array(combined[0].params.buffer, combined[0].params.byteOffset, 64);
    assert.ok(
      Math.abs(
        first[5] - (results[0].gradientSum[5] + results[1].gradientSum[5] + results[2].gradientSum[5]) / 16,
      ) < 1e-7,
    );
  });
});
