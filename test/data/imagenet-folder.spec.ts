import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BatchOptions,
  centreCropGeometry,
  evalBatch,
  hashSeed,
  IMAGENET_EVAL_CROP_FRACTION,
  IMAGENET_NORMALIZATION,
  mulberry32,
  OnDemandImageFolder,
  openDatasetSplits,
  randomResizedCropBox,
  shardBatch,
} from '@resnet/data';
import { initComputeBackend, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { classBlue, makeTempDir, WNIDS, writeImageNetStyleFolder, WrittenImage } from './imagenet-fixtures';

const SIZE = 64;
/** mean 0, std 1: batch values are pixel/255, so they can be compared with the ramps. */
const RAW: Pick<BatchOptions, 'mean' | 'std'> = { mean: [0, 0, 0], std: [1, 1, 1] };

/**
 * Checks one decoded crop against the ramp it came from: the output pixel (y, x) must show the
 * ramp at source position offset + (x + 0.5) * scale - 0.5, mirrored when flipped. JPEG noise is
 * a level or two; a crop misplaced by one output pixel shifts every value by a whole ramp step,
 * which the mean error exposes. Pixels near the border are skipped, where resampling filters clamp.
 * libvips enlarges on a grid half an output pixel behind PIL's (crops smaller than SIZE).
 */
function assertShowsRamp(
  x: Float32Array,
  k: number,
  image: WrittenImage,
  box: { top: number; left: number; scaleY: number; scaleX: number },
  flip: boolean,
): void {
  const base = k * SIZE * SIZE * 3;
  const redStep = (255 * box.scaleX) / (image.width - 1);
  const greenStep = (255 * box.scaleY) / (image.height - 1);
  let redShift = 0;
  let greenShift = 0;
  let worst = 0;
  let n = 0;
  for (let oy = 3; oy < SIZE - 3; oy++) {
    for (let ox = 3; ox < SIZE - 3; ox++, n++) {
      const i = base + (oy * SIZE + (flip ? SIZE - 1 - ox : ox)) * 3;
      const red = (255 * (box.left + (ox + 0.5) * box.scaleX - 0.5)) / (image.width - 1);
      const green = (255 * (box.top + (oy + 0.5) * box.scaleY - 0.5)) / (image.height - 1);
      redShift += (x[i] * 255 - red) / redStep;
      greenShift += (x[i + 1] * 255 - green) / greenStep;
      worst = Math.max(worst, Math.abs(x[i] * 255 - red), Math.abs(x[i + 1] * 255 - green));
      assert.ok(Math.abs(x[i + 2] * 255 - classBlue(image.label)) < 3, `blue of image ${k}`);
    }
  }
  const enlargementShift = (scale: number): number => (scale < 1 ? -0.5 : 0);
  assert.ok(
    Math.abs(redShift / n - enlargementShift(box.scaleX)) < 0.2 &&
      Math.abs(greenShift / n - enlargementShift(box.scaleY)) < 0.2,
    `crop ${k} is shifted by (${(greenShift / n).toFixed(2)}, ${(redShift / n).toFixed(2)}) output pixels`,
  );
  assert.ok(worst < 4, `crop ${k} is up to ${worst.toFixed(2)} levels off the expected ramp`);
}

describe('ImageNet-style folders decoded on demand', function () {
  let root: string;
  let written: WrittenImage[];
  before(async () => {
    root = await makeTempDir('imagenet');
    written = await writeImageNetStyleFolder(root, 3);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('lists classes by sorted folder name and files per class, with val/ as the evaluation split', async () => {
    const { train, test } = await openDatasetSplits({ kind: 'imagenet-folder', path: '.' }, root);
    assert.ok(train instanceof OnDemandImageFolder && test instanceof OnDemandImageFolder);
    assert.equal(train.size, 9);
    assert.equal(test.size, 3);
    assert.deepEqual(train.classNames, WNIDS);
    assert.deepEqual([train.height, train.width, test.height], [224, 224, 224]);
  });

  it('evaluation crops resize the shorter side to 256/224 of the crop and keep the centre', async () => {
    const val = await OnDemandImageFolder.open(root, 'val', SIZE);
    const batch = await evalBatch(val, 0, 3, RAW);
    assert.deepEqual(
      [batch.count, batch.height, batch.width, batch.x.length],
      [3, SIZE, SIZE, 3 * SIZE * SIZE * 3],
    );
    assert.deepEqual([...batch.y], [0, 1, 2]);
    written
      .filter((w) => w.split === 'val')
      .forEach((image, k) => {
        const g = centreCropGeometry(image.height, image.width, [SIZE, SIZE], IMAGENET_EVAL_CROP_FRACTION);
        const scaleY = image.height / g.resizeHeight;
        const scaleX = image.width / g.resizeWidth;
        // The crop's offsets are in resized pixels; in source pixels they are scaled back.
        const box = { top: g.crop.top * scaleY, left: g.crop.left * scaleX, scaleY, scaleX };
        assertShowsRamp(batch.x, k, image, box, false);
      });
  });

  it('training crops are the RandomResizedCrop box and flip drawn from hashSeed(seed, epoch, index)', async () => {
    const train = await OnDemandImageFolder.open(root, 'train', SIZE);
    const options: BatchOptions = { seed: 5, epoch: 2, augment: { padCrop: 0, flip: true }, ...RAW };
    const indices = [...Array(train.size).keys()];
    const batch = await train.batch(indices, options);
    assert.deepEqual([...batch.y], [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const flips: boolean[] = [];
    indices.forEach((index) => {
      const image = written[index];
      const random = mulberry32(hashSeed(5, 2, index));
      const crop = randomResizedCropBox(random, image.height, image.width);
      flips.push(random() < 0.5);
      const box = { top: crop.top, left: crop.left, scaleY: crop.height / SIZE, scaleX: crop.width / SIZE };
      assertShowsRamp(batch.x, index, image, box, flips[index]);
    });
    assert.ok(flips.includes(true) && flips.includes(false), 'both flipped and unflipped crops were checked');

    assert.deepEqual((await train.batch(indices, options)).x, batch.x, 'the same epoch gives the same crops');
    const nextEpoch = await train.batch(indices, { ...options, epoch: 3 });
    assert.notDeepEqual(nextEpoch.x, batch.x);
  });

  it('names the missing evaluation split and undecodable files', async () => {
    const empty = await makeTempDir('imagenet-no-val');
    try {
      await fs.mkdir(path.join(empty, 'train', 'a'), { recursive: true });
      await assert.rejects(OnDemandImageFolder.open(empty, 'val', SIZE), /No 'val' folder/);
      await assert.rejects(
        openDatasetSplits({ kind: 'imagenet-folder', path: '.' }, empty),
        /has no val\/ or test\/ folder/,
      );
      await fs.mkdir(path.join(empty, 'val', 'a'), { recursive: true });
      await fs.writeFile(path.join(empty, 'train', 'a', 'broken.jpg'), 'not a jpeg');
      await fs.writeFile(path.join(empty, 'val', 'a', 'broken.jpg'), 'not a jpeg');
      const { train } = await openDatasetSplits({ kind: 'imagenet-folder', path: '.' }, empty);
      await assert.rejects(evalBatch(train, 0, 1, RAW), /Cannot decode image .*broken\.jpg/);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('trains ResNet-18 one step on 64x64 crops and evaluates top-1 and top-5 (wasm)', async () => {
    await initComputeBackend('wasm');
    const { train, test } = await openDatasetSplits(
      { kind: 'imagenet-folder', path: '.', imageSize: SIZE },
      root,
    );
    const arch = architectureFor('resnet18', { numClasses: WNIDS.length });
    const trainer = new ShardTrainer(arch);
    try {
      trainer.setWeights(initialWeights(layoutsOf(arch), mulberry32(1)));
      const sampling = {
        batchSize: 4,
        shardsPerStep: 1,
        seed: 3,
        augment: { padCrop: 0, flip: true },
        normalization: IMAGENET_NORMALIZATION,
      };
      const result = await trainer.trainShard(await shardBatch(train, sampling, 0, 0));
      assert.equal(result.count, 4);
      assert.ok(Number.isFinite(result.lossSum) && result.lossSum > 0, `loss ${result.lossSum}`);
      assert.ok(result.gradientSum.every(Number.isFinite));
      // Through the classifier, every block, the max-pool and the 7x7 stem.
      assert.ok(trainer.layouts.params.view(result.gradientSum, 'stem/conv/kernel').some((g) => g !== 0));
      const evaluation = await trainer.evaluate(await evalBatch(test, 0, test.size, IMAGENET_NORMALIZATION));
      assert.equal(evaluation.count, 3);
      // Three classes: every label is among the top 5.
      assert.equal(evaluation.correctTop5, 3);
      assert.ok(evaluation.correct <= evaluation.correctTop5);
    } finally {
      trainer.dispose();
    }
  });
});
