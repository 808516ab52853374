import assert from 'node:assert/strict';
import { generateSyntheticTable, imageAt, ImageTable } from '@resnet/data';

/** Mean RGB of one image. */
function meanColour(table: ImageTable, i: number): number[] {
  const image = imageAt(table, i);
  const sums = [0, 0, 0];
  image.forEach((value, k) => (sums[k % 3] += value));
  return sums.map((sum) => sum / (image.length / 3));
}

describe('data/generateSyntheticTable', () => {
  const options = { size: 200, height: 16, width: 16, numClasses: 10, seed: 5 };

  it('is deterministic from the seed, with balanced labels and classN names', () => {
    const table = generateSyntheticTable(options);
    assert.equal(table.size, 200);
    assert.equal(table.images.length, 200 * 16 * 16 * 3);
    assert.deepEqual(table.classNames.slice(0, 3), ['class0', 'class1', 'class2']);
    assert.deepEqual([...table.labels.slice(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.deepEqual(generateSyntheticTable(options), table);
    assert.notDeepEqual(generateSyntheticTable({ ...options, seed: 6 }).images, table.images);
  });

  it('gives classes distinct colours that a nearest-mean rule separates', () => {
    const train = generateSyntheticTable(options);
    const test = generateSyntheticTable({ ...options, seed: 99 });
    const centroids = Array.from({ length: 10 }, () => [0, 0, 0]);
    for (let i = 0; i < train.size; i++) {
      meanColour(train, i).forEach((v, c) => (centroids[train.labels[i]][c] += v / 20));
    }
    let correct = 0;
    for (let i = 0; i < test.size; i++) {
      const colour = meanColour(test, i);
      const distances = centroids.map((centroid) =>
        centroid.reduce((d, v, c) => d + (v - colour[c]) ** 2, 0),
      );
      if (distances.indexOf(Math.min(...distances)) === test.labels[i]) correct++;
    }
    assert.ok(correct / test.size > 0.9, `nearest-mean accuracy ${correct / test.size}`);
  });

  it('draws stripes: neighbouring pixels along the class orientation agree more than across it', () => {
    // Class 0 stripes vary along x only (angle 0), so vertical neighbours match better.
    const table = generateSyntheticTable({ ...options, size: 20 });
    let alongY = 0;
    let alongX = 0;
    for (let i = 0; i < table.size; i += 10) {
      const image = imageAt(table, i);
      for (let y = 0; y < 15; y++) {
        for (let x = 0; x < 15; x++) {
          const here = image[(y * 16 + x) * 3];
          alongY += Math.abs(here - image[((y + 1) * 16 + x) * 3]);
          alongX += Math.abs(here - image[(y * 16 + x + 1) * 3]);
        }
      }
    }
    assert.ok(alongY < alongX * 0.8, `vertical diff ${alongY} vs horizontal ${alongX}`);
  });

  it('rejects impossible sizes', () => {
    assert.throws(
      () => generateSyntheticTable({ ...options, numClasses: 0 }),
      /numClasses must be a positive whole number/,
    );
  });
});
