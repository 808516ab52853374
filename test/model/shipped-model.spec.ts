import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { CIFAR10_CLASS_NAMES, openDataset } from '@resnet/data';
import { initComputeBackend } from '@resnet/engine';
import { loadLayersModel } from '../../apps/cli/src/layers-model-store';
import { evaluateModel } from '../../apps/cli/src/model-evaluation';
import { preprocessing } from '../../apps/cli/src/trained-model';
import { requireDependency, SHARED_CIFAR } from '../support/optional-dependency';

const SHIPPED = path.resolve(__dirname, '../../../models/resnet20-cifar10');
/** Every fifth of the 10,000 CIFAR-10 test images, in the archive's order (class folders, then file names). */
const EVERY = 5;
/**
 * What the shipped model scored on that slice when it was shipped (`resnet-cluster evaluate --every 5
 * --backend wasm`, written down once): a changed weights file, export or image pipeline shows here.
 */
const SHIPPED_SCORE = { count: 2000, top1Correct: 1749, top5Correct: 1992 };

describe('the shipped model, models/resnet20-cifar10', function () {
  before(function () {
    requireDependency(this, SHARED_CIFAR);
  });

  it('still scores on a fixed slice of the CIFAR-10 test set what it scored when it was shipped', async () => {
    await initComputeBackend('wasm');
    const model = await loadLayersModel(SHIPPED);
    try {
      const prep = preprocessing(model, SHIPPED);
      const test = await openDataset(path.join(SHARED_CIFAR.root, SHARED_CIFAR.archive), 'test');
      assert.deepEqual(prep.classNames, test.classNames);
      assert.deepEqual(
        [...test.classNames].sort(),
        [...CIFAR10_CLASS_NAMES].sort(),
        'the archive holds the ten CIFAR-10 classes',
      );
      assert.deepEqual(await evaluateModel(model, test, prep, EVERY), SHIPPED_SCORE);
    } finally {
      model.dispose();
    }
  });
});
