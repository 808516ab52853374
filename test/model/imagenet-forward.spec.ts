import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '@resnet/data';
import { initComputeBackend, ShardGradient, ShardTrainer } from '@resnet/engine';
import {
  architectureFor,
  initialWeights,
  layoutsOf,
  ModelWeights,
  ResNetArchitecture,
  STEM_MAX_POOL,
} from '@resnet/model';
import { maxAbsDifference } from '../support/reference-training';
import { evalLogits, maxAbs, randomBatch } from './model-fixtures';

/** ResNet-18's stem, max-pool and first block only: small enough for the pure-JavaScript cpu backend. */
function resnet18Stem(): ResNetArchitecture {
  const arch = architectureFor('resnet18', { numClasses: 10 });
  return { ...arch, name: 'resnet18-stem', blocks: arch.blocks.slice(0, 1), featureChannels: 64 };
}

async function trainStep(
  backend: 'wasm' | 'cpu',
  arch: ResNetArchitecture,
  weights: ModelWeights,
  size: number,
): Promise<ShardGradient> {
  await initComputeBackend(backend);
  const trainer = new ShardTrainer(arch);
  try {
    trainer.setWeights(weights);
    return await trainer.trainShard(randomBatch(2, [size, size], arch.numClasses, mulberry32(5)));
  } finally {
    trainer.dispose();
  }
}

describe('ImageNet ResNets (7x7 stride-2 stem, 3x3 stride-2 max-pool, basic and bottleneck blocks)', function () {
  before(() => initComputeBackend('wasm'));
  after(() => initComputeBackend('wasm'));

  for (const name of ['resnet18', 'resnet50']) {
    it(`${name} maps a 64x64 image to [1, 1000] finite logits on wasm`, async () => {
      const arch = architectureFor(name, { numClasses: 1000 });
      const weights = initialWeights(layoutsOf(arch), mulberry32(2));
      const logits = await evalLogits(arch, weights, randomBatch(1, [64, 64], 1000, mulberry32(3)));
      assert.equal(logits.length, 1000);
      assert.ok(logits.every(Number.isFinite) && maxAbs(logits) > 0);
    });
  }

  it('max-pool after ReLU, as in the stem, has the cpu backend’s gradient on wasm, all-zero windows included', async () => {
    // tfjs-backend-wasm 4.22's MaxPoolGrad starts each window's maximum at FLT_MIN, so windows whose
    // maximum is <= 0 get no gradient. After a ReLU such windows hold only zeros, whose gradient the
    // ReLU discards anyway: the network's gradient is unaffected, which this pins down.
    const gradient = async (backend: 'wasm' | 'cpu'): Promise<Float32Array> => {
      await initComputeBackend(backend);
      return tf.tidy(() => {
        const random = mulberry32(9);
        // Mostly negative before the ReLU, so many windows are all zero after it.
        const x = tf.tensor4d(
          Float32Array.from({ length: 2 * 9 * 9 * 4 }, () => random() - 0.8),
          [2, 9, 9, 4],
        );
        const weights = tf.tensor4d(
          Float32Array.from({ length: 2 * 5 * 5 * 4 }, () => random() - 0.5),
          [2, 5, 5, 4],
        );
        const loss = (input: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.maxPool(tf.relu(input as tf.Tensor4D), STEM_MAX_POOL.size, STEM_MAX_POOL.stride, 'same'),
              weights,
            ),
          );
        return tf.grad(loss)(x).dataSync() as Float32Array;
      });
    };
    const wasm = await gradient('wasm');
    const cpu = await gradient('cpu');
    assert.ok(maxAbs(cpu) > 0);
    assert.ok(maxAbsDifference(wasm, cpu) < 1e-6);
  });

  it('the stem, max-pool and a block train on wasm with the cpu backend’s loss, gradient and batch statistics', async () => {
    const arch = resnet18Stem();
    const weights = initialWeights(layoutsOf(arch), mulberry32(4));
    const wasm = await trainStep('wasm', arch, weights, 32);
    const cpu = await trainStep('cpu', arch, weights, 32);
    assert.ok(
      Math.abs(wasm.lossSum - cpu.lossSum) <= 1e-4 * Math.abs(cpu.lossSum),
      `loss ${wasm.lossSum} vs ${cpu.lossSum}`,
    );
    const gradientError = maxAbsDifference(wasm.gradientSum, cpu.gradientSum) / maxAbs(cpu.gradientSum);
    assert.ok(gradientError < 1e-4, `gradients differ by ${gradientError} of the largest`);
    const statsError = maxAbsDifference(wasm.batchStats, cpu.batchStats) / maxAbs(cpu.batchStats);
    assert.ok(statsError < 1e-4, `batch statistics differ by ${statsError} of the largest`);
  });
});
