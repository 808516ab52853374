import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '@resnet/data';
import { initComputeBackend, ShardBatch } from '@resnet/engine';
import {
  architectureFor,
  fromLayersModelFiles,
  layoutsOf,
  ShortcutKind,
  toLayersModel,
  toLayersModelFiles,
  WEIGHTS_FILE,
} from '@resnet/model';
import { maxAbsDifference } from '../support/reference-training';
import { calibratedWeights, evalLogits, maxAbs, randomBatch } from './model-fixtures';

function predict(model: tf.LayersModel, batch: ShardBatch): Float32Array {
  return tf.tidy(
    () =>
      (
        model.predict(tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3])) as tf.Tensor
      ).dataSync() as Float32Array,
  );
}

const CASES: ReadonlyArray<{ name: string; shortcut: ShortcutKind; size: number; covers: string }> = [
  {
    name: 'resnet20',
    shortcut: 'zero-pad',
    size: 16,
    covers: 'CIFAR stem, option A shortcuts as frozen 1x1 convolutions',
  },
  { name: 'resnet18', shortcut: 'projection', size: 32, covers: '7x7 stem, max-pool, projection shortcuts' },
];

describe('ResNets as tfjs-layers models', function () {
  before(() => initComputeBackend('wasm'));

  for (const { name, shortcut, size, covers } of CASES) {
    it(`${name} (${covers}) predicts resnetLogits' inference-mode logits`, async () => {
      const arch = architectureFor(name, { numClasses: 7, shortcut });
      const weights = await calibratedWeights(arch, [size, size], 1);
      const batch = randomBatch(3, [size, size], 7, mulberry32(2));
      const expected = await evalLogits(arch, weights, batch);
      const model = toLayersModel(arch, weights, [size, size]);
      try {
        assert.deepEqual(model.outputs[0].shape, [null, 7]);
        assert.ok(maxAbs(expected) > 0.1, 'logits too small to compare meaningfully');
        const difference = maxAbsDifference(predict(model, batch), expected);
        assert.ok(difference <= 1e-4, `logits differ by ${difference}`);
      } finally {
        model.dispose();
      }
    });
  }

  it('trains exactly our parameters; running statistics and zero-pad selections stay fixed', async () => {
    const arch = architectureFor('resnet20', { numClasses: 10, shortcut: 'zero-pad' });
    const layouts = layoutsOf(arch);
    const model = toLayersModel(arch, await calibratedWeights(arch, [8, 8], 3), [8, 8]);
    try {
      const zeroPadShortcuts = arch.blocks.filter((b) => b.shortcut?.kind === 'zero-pad').length;
      assert.equal(zeroPadShortcuts, 2);
      assert.equal(model.trainableWeights.length, layouts.params.tensors.length);
      assert.equal(model.nonTrainableWeights.length, layouts.state.tensors.length + zeroPadShortcuts);
    } finally {
      model.dispose();
    }
  });

  it('survives the model.json + weights.bin round trip, metadata included', async () => {
    const arch = architectureFor('resnet20', { numClasses: 4, shortcut: 'zero-pad' });
    const weights = await calibratedWeights(arch, [8, 8], 4);
    const batch = randomBatch(2, [8, 8], 4, mulberry32(5));
    const model = toLayersModel(arch, weights, [8, 8]);
    model.setUserDefinedMetadata({ classNames: ['a', 'b', 'c', 'd'] });
    const files = await toLayersModelFiles(model);
    const loaded = await fromLayersModelFiles({
      modelJson: JSON.parse(JSON.stringify(files.modelJson)),
      weights: files.weights,
    });
    try {
      assert.deepEqual(
        files.modelJson.weightsManifest.map((group) => group.paths),
        [[WEIGHTS_FILE]],
      );
      assert.deepEqual(loaded.getUserDefinedMetadata(), { classNames: ['a', 'b', 'c', 'd'] });
      assert.deepEqual(predict(loaded, batch), predict(model, batch));
    } finally {
      model.dispose();
      loaded.dispose();
    }
  });
});
