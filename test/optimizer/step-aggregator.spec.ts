import * as assert from 'node:assert/strict';
import {
  applyStep,
  applyStepInPlace,
  poolBatchStats,
  sgdStep,
  StepAggregator,
  updateRunningStats,
} from '@resnet/optimizer';

function contribution(gradient: number[], count: number, stats = [0, 1]) {
  return {
    gradientSum: Float32Array.from(gradient),
    batchStats: Float32Array.from(stats),
    count,
    lossSum: count,
    correct: 1,
  };
}

describe('SGD with momentum', () => {
  it('follows torch.optim.SGD (weight decay, momentum, dampening 0), hand-computed', () => {
    const w = Float32Array.from([1, -2]);
    const v = new Float32Array(2);
    const s = { momentum: 0.9, weightDecay: 0.1, nesterov: false };
    sgdStep(w, Float32Array.from([0.5, 0.5]), v, 0.1, s);
    // d = g + 0.1 w = [0.6, 0.3]; v = d; w -= 0.1 v
    assert.ok(Math.abs(w[0] - 0.94) < 1e-6 && Math.abs(w[1] - -2.03) < 1e-6, `${w}`);
    sgdStep(w, Float32Array.from([0.5, 0.5]), v, 0.1, s);
    // d = [0.5 + 0.094, 0.5 - 0.203]; v = 0.9 [0.6, 0.3] + d
    assert.ok(Math.abs(v[0] - (0.54 + 0.594)) < 1e-6 && Math.abs(v[1] - (0.27 + 0.297)) < 1e-6, `${v}`);
  });

  it('Nesterov looks ahead: w -= lr (d + mu v)', () => {
    const w = Float32Array.from([1]);
    const v = Float32Array.from([1]);
    sgdStep(w, Float32Array.from([1]), v, 0.5, { momentum: 0.5, weightDecay: 0, nesterov: true });
    // v = 0.5 + 1 = 1.5; step = 1 + 0.75
    assert.ok(Math.abs(v[0] - 1.5) < 1e-7 && Math.abs(w[0] - (1 - 0.5 * 1.75)) < 1e-7);
  });
});

describe('StepAggregator', () => {
  it('averages the shards over the total sample count, whatever order they arrive in', () => {
    const results = [contribution([1, 2], 2), contribution([3, 4], 2), contribution([5, 6], 4)];
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ];
    const sums = orders.map((order) => {
      const agg = new StepAggregator(2, 3, [1]);
      for (const i of order) assert.equal(agg.add(i, results[i]), true);
      assert.equal(agg.complete, true);
      return agg.result();
    });
    for (const s of sums) {
      assert.deepEqual(Array.from(s.gradient), [9 / 8, 12 / 8]);
      assert.equal(s.count, 8);
      assert.equal(s.lossSum, 8);
      assert.equal(s.correct, 3);
    }
  });

  it('ignores a duplicate result for a shard already counted', () => {
    const agg = new StepAggregator(1, 2, [1]);
    assert.equal(agg.add(1, contribution([1], 1)), true);
    assert.equal(agg.add(1, contribution([100], 1)), false);
    assert.equal(agg.add(0, contribution([1], 1)), true);
    assert.equal(agg.add(0, contribution([100], 1)), false);
    assert.deepEqual(Array.from(agg.result().gradient), [1]);
  });

  it('refuses to produce a result before every shard is in, and rejects wrong sizes', () => {
    const agg = new StepAggregator(2, 2, [1]);
    agg.add(0, contribution([1, 1], 1));
    assert.throws(() => agg.result(), /1 of 2 shards/);
    assert.throws(() => agg.add(1, contribution([1], 1)), /expected 2/);
    assert.throws(() => agg.add(2, contribution([1, 1], 1)), /out of 0..1/);
  });

  it('after reset aggregates the next step in the same memory, as a fresh aggregator would', () => {
    const agg = new StepAggregator(2, 2, [1]);
    agg.add(0, contribution([1, 2], 1));
    agg.add(1, contribution([3, 4], 1));
    const first = agg.result().gradient;
    agg.reset();
    assert.equal(agg.received, 0);
    agg.add(1, contribution([0.5, 0.25], 2));
    agg.add(0, contribution([1, 1], 2));
    const fresh = new StepAggregator(2, 2, [1]);
    fresh.add(0, contribution([1, 1], 2));
    fresh.add(1, contribution([0.5, 0.25], 2));
    const next = agg.result();
    assert.deepEqual(Array.from(next.gradient), Array.from(fresh.result().gradient));
    assert.equal(next.gradient, first, 'the mean gradient is written into the same array');
  });

  it('folds in fixed groups of consecutive shards: g = 1 and g = shardsPerStep give the plain order, g = 2 its own', () => {
    // Float64 sums where the order shows: 1e20 + 1 rounds the 1 away.
    const gradients = [1e20, 1, -1e20, 1];
    const meanWith = (group: number, arrival: number[]) => {
      const agg = new StepAggregator(1, 4, [1], group);
      for (const shard of arrival) agg.add(shard, contribution([gradients[shard]], 1));
      return agg.result().gradient[0];
    };
    // Plain: ((1e20 + 1) − 1e20) + 1 = 1; groups of 2: (1e20 + 1) + (−1e20 + 1) = 0.
    assert.equal(meanWith(4, [0, 1, 2, 3]), 0.25);
    assert.equal(meanWith(1, [3, 2, 1, 0]), 0.25);
    assert.equal(meanWith(2, [2, 0, 3, 1]), 0);
    // A last group shorter than g: (1e20 + 1 − 1e20) + 1.
    assert.equal(meanWith(3, [1, 3, 0, 2]), 0.25);
    assert.throws(() => new StepAggregator(1, 4, [1], 5), /fold group 5/);
  });
});

describe('batch-norm statistics', () => {
  it("pools shard means and variances into the whole batch's", () => {
    // Shard A: values {0, 2} (mean 1, var 1); shard B: {4, 4, 4, 8} (mean 5, var 3).
    const pooled = poolBatchStats(
      [
        { count: 2, stats: Float32Array.from([1, 1]) },
        { count: 4, stats: Float32Array.from([5, 3]) },
      ],
      [1],
    );
    const all = [0, 2, 4, 4, 4, 8];
    const mean = all.reduce((a, b) => a + b) / 6;
    const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
    assert.equal(pooled.count, 6);
    assert.ok(Math.abs(pooled.stats[0] - mean) < 1e-6);
    assert.ok(Math.abs(pooled.stats[1] - variance) < 1e-5);
  });

  it('moves running statistics with momentum 0.1 and the unbiased variance, like PyTorch', () => {
    const running = Float32Array.from([0, 1, 10, 20, 1, 1]); // two layers: 1 channel, then 2 channels
    updateRunningStats(running, { count: 5, stats: Float32Array.from([2, 4, 0, 0, 2, 2]) }, [1, 2]);
    assert.ok(Math.abs(running[0] - 0.2) < 1e-6);
    assert.ok(Math.abs(running[1] - (0.9 + 0.1 * 4 * 1.25)) < 1e-6);
    assert.ok(Math.abs(running[2] - 9) < 1e-6 && Math.abs(running[3] - 18) < 1e-6);
    assert.ok(Math.abs(running[4] - (0.9 + 0.25)) < 1e-6);
  });

  it('applyStep leaves its inputs untouched and returns updated copies', () => {
    const weights = { params: Float32Array.from([1]), state: Float32Array.from([0, 1]) };
    const velocity = new Float32Array(1);
    const agg = new StepAggregator(1, 1, [1]);
    agg.add(0, contribution([2], 2, [1, 1]));
    const next = applyStep(
      weights,
      velocity,
      agg.result(),
      0.5,
      { momentum: 0.9, weightDecay: 0, nesterov: false },
      [1],
    );
    assert.equal(weights.params[0], 1);
    assert.equal(velocity[0], 0);
    assert.equal(next.params[0], 0.5);
    assert.equal(next.velocity[0], 1);
    assert.ok(Math.abs(next.state[0] - 0.1) < 1e-7);
  });

  it('applyStepInPlace computes exactly what applyStep does, in the given arrays', () => {
    const weights = { params: Float32Array.from([1, -0.3]), state: Float32Array.from([0, 1]) };
    const velocity = Float32Array.from([0.2, 0.1]);
    const agg = new StepAggregator(2, 1, [1]);
    agg.add(0, contribution([2, 0.7], 3, [1, 2]));
    const sgd = { momentum: 0.9, weightDecay: 1e-4, nesterov: true };
    const copies = applyStep(weights, velocity, agg.result(), 0.05, sgd, [1]);
    const model = { ...weights, velocity };
    applyStepInPlace(model, agg.result(), 0.05, sgd, [1]);
    assert.deepEqual(
      [model.params, model.state, model.velocity],
      [copies.params, copies.state, copies.velocity],
    );
    assert.equal(model.params, weights.params);
  });
});
