/**
 * A ResNet-20 training step on the webgpu backend (SwiftShader where there is no GPU) against the
 * same step on tfjs' cpu backend: loss, correct count, every gradient and every batch statistic.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { ShardBatch, ShardGradient, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf, ModelWeights } from '@resnet/model';
import { assertClose } from '../support/assert-close';
import { webgpuForTests } from '../support/webgpu-adapter';

const TOLERANCE = 1e-4;

function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('ResNet-20 training step on webgpu against cpu', function () {
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const weights: ModelWeights = initialWeights(layoutsOf(arch), seededUniform(1));
  const uniform = seededUniform(2);
  const batch: ShardBatch = {
    x: Float32Array.from({ length: 8 * 8 * 8 * 3 }, () => 2 * uniform() - 1),
    y: Int32Array.from({ length: 8 }, () => Math.floor(uniform() * 10)),
    count: 8,
    height: 8,
    width: 8,
  };

  async function step(backend: string): Promise<{ result: ShardGradient; tensorsAfter: number[] }> {
    await tf.setBackend(backend);
    const trainer = new ShardTrainer(arch);
    trainer.setWeights(weights);
    try {
      const result = await trainer.trainShard(batch);
      const first = tf.memory().numTensors;
      await trainer.trainShard(batch);
      return { result, tensorsAfter: [first, tf.memory().numTensors] };
    } finally {
      trainer.dispose();
    }
  }

  before(async function () {
    await webgpuForTests(this);
  });

  after(async () => {
    await tf.setBackend('cpu');
  });

  it('gives the loss, gradients and batch statistics of the cpu backend within 1e-4, leaking no tensor', async () => {
    const expected = (await step('cpu')).result;
    const { result: actual, tensorsAfter } = await step('webgpu');
    assert.equal(tensorsAfter[1], tensorsAfter[0], 'tensors held after a second step');
    assert.equal(actual.count, expected.count);
    assert.equal(actual.correct, expected.correct, 'correct count');
    assertClose('loss', [actual.lossSum], [expected.lossSum], TOLERANCE);
    const layouts = layoutsOf(arch);
    for (const t of layouts.params.tensors) {
      assertClose(
        `gradient of ${t.name}`,
        actual.gradientSum.subarray(t.offset, t.offset + t.size),
        expected.gradientSum.subarray(t.offset, t.offset + t.size),
        TOLERANCE,
      );
    }
    assertClose('batch statistics', actual.batchStats, expected.batchStats, TOLERANCE);
  });
});
