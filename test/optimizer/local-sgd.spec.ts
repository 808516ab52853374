import * as assert from 'node:assert/strict';
import {
  applyRoundInPlace,
  LocalSgdRound,
  sampleWeightedMean,
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
  it('sampleWeightedMean weights each shard by its samples', () => {
    const mean = sampleWeightedMean([
      { count: 1, stats: Float32Array.from([1, 10]) },
      { count: 3, stats: Float32Array.from([5, 2]) },
    ]);
    assert.deepEqual(Array.from(mean), [(1 + 15) / 4, (10 + 6) / 4]);
  });

  it('a round takes SGD steps with mean gradients and zero starting momentum, hand-computed', () => {
    // One batch-norm channel: state [running mean, running variance].
    const start = { params: Float32Array.from([1]), state: Float32Array.from([0, 1]) };
    const round = new LocalSgdRound(start, { momentum: 0.5, weightDecay: 0, nesterov: false }, [1]);
    round.step(batch([2], 2, [2, 4]), 0.1); // mean gradient 1: v = 1, w = 0.9
    round.step(batch([4], 2, [2, 4]), 0.1); // mean gradient 2: v = 0.5 + 2, w = 0.9 - 0.25
    assert.ok(Math.abs(round.weights.params[0] - 0.65) < 1e-6, `${round.weights.params}`);
    // Running statistics, momentum 0.1, unbiased variance (×2): mean 0.2 then 0.38; variance 1.7 then 2.33.
    const result = round.result();
    assert.ok(Math.abs(result.gradientSum[0] - 4 * (1 - 0.65)) < 1e-5, `${result.gradientSum}`);
    assert.ok(Math.abs(result.batchStats[0] - (0 - 0.38)) < 1e-6, `${result.batchStats}`);
    assert.ok(Math.abs(result.batchStats[1] - (1 - 2.33)) < 1e-6, `${result.batchStats}`);
    assert.deepEqual([result.count, result.lossSum, result.correct], [4, 2, 2]);
    assert.deepEqual(Array.from(start.params), [1], 'the start weights are left as they were');
  });

  it('one shard with one local step makes the SGD step of synchronous training from zero momentum', () => {
    const start = { params: Float32Array.from([0.3, -1.2, 2]), state: Float32Array.from([0.1, 0.2, 1, 3]) };
    const sgd = { momentum: 0.9, weightDecay: 1e-4, nesterov: true };
    const shard = batch([0.6, -0.9, 3], 3, [0.5, -0.5, 2, 1]);
    const round = new LocalSgdRound(start, sgd, [2]);
    round.step(shard, 0.05);
    const aggregator = new StepAggregator(3, 1, [2]);
    aggregator.add(0, round.result());
    const combined = { params: start.params.slice(), state: start.state.slice() };
    applyRoundInPlace(combined, aggregator.roundResult());

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

  it("the combined round is the sample-weighted mean of the shards' weights and running statistics", () => {
    const start = { params: Float32Array.from([1, -1]), state: Float32Array.from([0, 1]) };
    const shards = [
      [batch([2, 1], 2, [1, 2]), batch([-1, 3], 2, [0.5, 1])],
      [batch([6, -6], 6, [-1, 4]), batch([0.6, 1.2], 6, [2, 0.5])],
    ];
    const aggregator = new StepAggregator(2, 2, [1]);
    const ends = shards.map((batches, shard) => {
      const round = new LocalSgdRound(start, { momentum: 0.9, weightDecay: 1e-3, nesterov: false }, [1]);
      for (const b of batches) round.step(b, 0.1);
      const end = { params: round.weights.params.slice(), state: round.weights.state.slice() };
      aggregator.add(shard, round.result());
      return end;
    });
    const next = { params: start.params.slice(), state: start.state.slice() };
    applyRoundInPlace(next, aggregator.roundResult());
    const weights = [4, 12]; // each shard's samples over its two local steps
    for (const part of ['params', 'state'] as const) {
      next[part].forEach((value, i) => {
        const mean = (weights[0] * ends[0][part][i] + weights[1] * ends[1][part][i]) / 16;
        assert.ok(Math.abs(value - mean) < 1e-6, `${part}[${i}]: ${value} vs ${mean}`);
      });
    }
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
      const round = aggregator.roundResult();
      return { params: bytes(round.paramsDelta.slice()), state: bytes(round.stateDelta) };
    });
    assert.deepEqual(combined[1], combined[0]);
    assert.deepEqual(combined[2], combined[0]);
    // And it is the weighted mean: the parameter parts are already weighted, the state parts are not.
    const first = new Float32Array(combined[0].params.buffer, combined[0].params.byteOffset, 64);
    assert.ok(
      Math.abs(
        first[5] - (results[0].gradientSum[5] + results[1].gradientSum[5] + results[2].gradientSum[5]) / 16,
      ) < 1e-7,
    );
    const state = new Float32Array(combined[0].state.buffer, combined[0].state.byteOffset, 4);
    const stateMean =
      (3 * results[0].batchStats[1] + 5 * results[1].batchStats[1] + 8 * results[2].batchStats[1]) / 16;
    assert.ok(Math.abs(state[1] - stateMean) < 1e-7);
  });
});
