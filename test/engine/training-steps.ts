/** A few steps of ResNet-20 training in one process, which the backend tests compare across backends and precisions. */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ShardBatch, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf, ModelWeights } from '@resnet/model';
import { applyStep, StepAggregator } from '@resnet/optimizer';
import { Precision } from '@resnet/protocol';

import { seededNormal, seededUniform } from './seeded-data';

export function syntheticBatch(count: number, side: number, seed: number): ShardBatch {
  const uniform = seededUniform(seed);
  return {
    x: seededNormal(seed, count * side * side * 3),
    y: Int32Array.from({ length: count }, () => Math.floor(uniform() * 10)),
    count,
    height: side,
    width: side,
  };
}

/**
 * Training loss of the fixed batch at each of 3 SGD steps from fixed weights, then after the third,
 * on `backend` at `precision`, with SGD at learning rate `lr`.
 */
export async function lossesOver3Steps(
  backend: string,
  precision: Precision = 'fp32',
  lr = 0.1,
): Promise<number[]> {
  await tf.setBackend(backend);
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const layouts = layoutsOf(arch);
  const channels = layouts.batchNorms.map((b) => b.channels);
  const trainer = new ShardTrainer(arch, precision);
  const batch = syntheticBatch(8, 8, 42);
  const sgd = { momentum: 0.9, weightDecay: 5e-4, nesterov: false };
  let weights: ModelWeights = initialWeights(layouts, seededUniform(7));
  let velocity: Float32Array = new Float32Array(layouts.params.size);
  const losses: number[] = [];
  try {
    for (let step = 0; step < 3; step++) {
      trainer.setWeights(weights);
      const aggregator = new StepAggregator(layouts.params.size, 1, channels);
      const shard = await trainer.trainShard(batch);
      losses.push(shard.lossSum);
      aggregator.add(0, shard);
      const next = applyStep(weights, velocity, aggregator.result(), lr, sgd, channels);
      weights = next;
      velocity = next.velocity;
    }
    trainer.setWeights(weights);
    losses.push((await trainer.trainShard(batch)).lossSum);
  } finally {
    trainer.dispose();
  }
  return losses;
}

/** Asserts that a second ResNet-20 training step at `precision` on the active backend leaves no tensor or backend data behind. */
export async function assertNoLeakOverATrainingStep(precision: Precision): Promise<void> {
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const trainer = new ShardTrainer(arch, precision);
  trainer.setWeights(initialWeights(layoutsOf(arch), seededUniform(1)));
  const batch = syntheticBatch(4, 8, 2);
  await trainer.trainShard(batch);
  const before = { ...tf.memory(), dataIds: tf.engine().backend.numDataIds() };
  await trainer.trainShard(batch);
  const after = { ...tf.memory(), dataIds: tf.engine().backend.numDataIds() };
  trainer.dispose();
  assert.equal(after.numTensors, before.numTensors, 'numTensors');
  assert.equal(after.numBytes, before.numBytes, 'numBytes');
  assert.equal(after.dataIds, before.dataIds, 'backend data ids');
}
