import assert from 'node:assert/strict';
import { buildBatch, channelStats, createImageTable, ImageTable } from '@resnet/data';

/** 3x3 images whose pixel (y, x) of image i is [10i + 3y + x + 1, 100, 200] (never 0, unlike padding). */
function tinyTable(count: number): ImageTable {
  const images = new Uint8Array(count * 27);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 9; p++) images.set([10 * i + p + 1, 100, 200], i * 27 + p * 3);
  }
  const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
  return createImageTable({ height: 3, width: 3, classNames: ['even', 'odd'], images, labels });
}

/** Every image of `table`, in order. */
const everyIndex = (table: ImageTable): number[] => Array.from({ length: table.size }, (_, i) => i);

const IDENTITY = { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] };

/** Reference: pad with zeros, crop at (top, left) of the padded image, then optionally mirror. */
function padCropFlip(
  table: ImageTable,
  index: number,
  pad: number,
  top: number,
  left: number,
  flip: boolean,
): number[] {
  const { height, width } = table;
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sy = y + top - pad;
      const sx = (flip ? width - 1 - x : x) + left - pad;
      for (let c = 0; c < 3; c++) {
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        out.push(inside ? table.images[index * 27 + (sy * width + sx) * 3 + c] : 0);
      }
    }
  }
  return out;
}

/** The (top, left, flip) that reproduces an augmented sample, or null. */
function findTransform(table: ImageTable, index: number, pad: number, sample: number[]): string | null {
  for (let top = 0; top <= 2 * pad; top++) {
    for (let left = 0; left <= 2 * pad; left++) {
      for (const flip of [false, true]) {
        if (padCropFlip(table, index, pad, top, left, flip).every((v, i) => Math.abs(v - sample[i]) < 1e-3)) {
          return `${top},${left},${flip}`;
        }
      }
    }
  }
  return null;
}

/** Each sample's (top, left, flip) in a batch of every image of `table` (see findTransform). */
function sampleTransforms(
  table: ImageTable,
  options: { seed: number; epoch: number; augment: { padCrop: number; flip: boolean } },
): (string | null)[] {
  const batch = buildBatch(table, everyIndex(table), { ...options, ...IDENTITY });
  const sample = (k: number): number[] => [...batch.x.subarray(k * 27, (k + 1) * 27)];
  return everyIndex(table).map((k) => findTransform(table, k, options.augment.padCrop, sample(k)));
}

describe('data/batch-builder', () => {
  it('channelStats gives per-channel mean and population std of pixel/255', () => {
    const images = Uint8Array.from([0, 51, 255, 255, 51, 255, 0, 51, 0, 255, 51, 0]);
    const table = createImageTable({
      height: 1,
      width: 2,
      classNames: ['a'],
      images,
      labels: new Int32Array(2),
    });
    const { mean, std } = channelStats(table);
    const close = (actual: number[], expected: number[]): void =>
      actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${actual} vs ${expected}`));
    close(mean, [0.5, 0.2, 0.5]);
    close(std, [0.5, 0, 0.5]);
  });

  it('normalises without augmentation, in index order', () => {
    const table = tinyTable(4);
    const batch = buildBatch(table, [3, 0], {
      seed: 1,
      epoch: 0,
      augment: null,
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 2],
    });
    assert.equal(batch.count, 2);
    assert.deepEqual([...batch.y], [1, 0]);
    assert.equal(batch.x.length, 2 * 27);
    // Image 3, pixel (0, 0) = [31, 100, 200]; image 0, pixel (2, 2) = [9, 100, 200].
    assert.ok(Math.abs(batch.x[0] - (31 / 255 - 0.5) / 0.5) < 1e-6);
    assert.ok(Math.abs(batch.x[1] - (100 / 255 - 0.25) / 0.25) < 1e-6);
    assert.ok(Math.abs(batch.x[2] - 200 / 255 / 2) < 1e-6);
    assert.ok(Math.abs(batch.x[27 + 24] - (9 / 255 - 0.5) / 0.5) < 1e-6);
  });

  it('augments with zero-padded crops at every offset in [0, 2*pad] and flips, each a valid transform', () => {
    const transforms = sampleTransforms(tinyTable(200), {
      seed: 3,
      epoch: 2,
      augment: { padCrop: 1, flip: true },
    });
    transforms.forEach((t, k) => assert.ok(t !== null, `sample ${k} is not a pad-crop-flip of its image`));
    assert.equal(new Set(transforms).size, 3 * 3 * 2, 'all 9 offsets x 2 flips occur');
  });

  it('pads with pixel value 0 before normalisation', () => {
    const table = tinyTable(64);
    const mean = [0.2, 0.4, 0.6];
    const std = [0.5, 0.5, 0.5];
    const batch = buildBatch(table, everyIndex(table), {
      seed: 9,
      epoch: 0,
      augment: { padCrop: 2, flip: false },
      mean,
      std,
    });
    const padValues = new Set<number>();
    batch.x.forEach((value, i) => {
      const c = i % 3;
      if (Math.abs(value - (0 - mean[c]) / std[c]) < 1e-6) padValues.add(c);
    });
    assert.deepEqual([...padValues].sort(), [0, 1, 2], 'some crops reach into the padding on every channel');
  });

  it('only flips when padCrop is 0, about half the time', () => {
    const transforms = sampleTransforms(tinyTable(400), {
      seed: 4,
      epoch: 0,
      augment: { padCrop: 0, flip: true },
    });
    assert.ok(transforms.every((t) => t === '0,0,false' || t === '0,0,true'));
    const flipped = transforms.filter((t) => t === '0,0,true').length;
    assert.ok(flipped > 150 && flipped < 250, `${flipped} of 400 flipped`);
  });

  it('is deterministic per (seed, epoch, dataset index), wherever the sample sits in the batch', () => {
    const table = tinyTable(50);
    const options = { seed: 11, epoch: 3, augment: { padCrop: 1, flip: true }, ...IDENTITY };
    const all = buildBatch(table, everyIndex(table), options);
    const single = buildBatch(table, [17], options);
    assert.deepEqual(single.x, all.x.subarray(17 * 27, 18 * 27));
    assert.deepEqual(buildBatch(table, [17], options).x, single.x);
    const nextEpoch = buildBatch(table, everyIndex(table), { ...options, epoch: 4 });
    assert.notDeepEqual(nextEpoch.x, all.x);
  });

  it('rejects bad indices and statistics', () => {
    const table = tinyTable(2);
    assert.throws(
      () => buildBatch(table, [2], { seed: 0, epoch: 0, augment: null, ...IDENTITY }),
      /outside the table/,
    );
    assert.throws(
      () => buildBatch(table, [0], { seed: 0, epoch: 0, augment: null, mean: [0, 0, 0], std: [1, 0, 1] }),
      /std > 0/,
    );
  });
});
