import * as assert from 'node:assert/strict';
import {
  centreCropGeometry,
  hashSeed,
  IMAGENET_EVAL_CROP_FRACTION,
  mulberry32,
  randomResizedCropBox,
  roundHalfEven,
} from '@resnet/data';

describe('crop geometry (torchvision RandomResizedCrop and Resize + CenterCrop)', () => {
  it('rounds halves to even, as Python does', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 4, 2, 3]);
  });

  it('draws the same random-resized crop for the same (seed, epoch, index) and others elsewhere', () => {
    const box = (seed: number, epoch: number, index: number) =>
      randomResizedCropBox(mulberry32(hashSeed(seed, epoch, index)), 300, 200);
    assert.deepEqual(box(7, 2, 41), box(7, 2, 41));
    const boxes = new Set(
      [box(7, 2, 41), box(7, 3, 41), box(7, 2, 42), box(8, 2, 41)].map((b) => JSON.stringify(b)),
    );
    assert.equal(boxes.size, 4);
  });

  it('keeps crops inside the image with 8-100% of its area and a width/height ratio in [3/4, 4/3]', () => {
    const [height, width] = [300, 200];
    const areas: number[] = [];
    for (let index = 0; index < 2000; index++) {
      const b = randomResizedCropBox(mulberry32(hashSeed(1, 0, index)), height, width);
      assert.ok(
        b.top >= 0 && b.left >= 0 && b.top + b.height <= height && b.left + b.width <= width,
        JSON.stringify(b),
      );
      areas.push((b.height * b.width) / (height * width));
      // Sides are rounded to whole pixels, so the bounds hold up to half a pixel per side.
      assert.ok(
        (b.width + 0.5) / (b.height - 0.5) >= 3 / 4 && (b.width - 0.5) / (b.height + 0.5) <= 4 / 3,
        JSON.stringify(b),
      );
    }
    assert.ok(
      Math.min(...areas) >= 0.079 && Math.max(...areas) <= 1,
      `areas ${Math.min(...areas)}..${Math.max(...areas)}`,
    );
    // Uniform in area: both ends of the range are reached (a 4/3 ratio bound caps this image's crops at 89%).
    assert.ok(Math.min(...areas) < 0.15 && Math.max(...areas) > 0.8);
  });

  it('falls back to the central crop with the ratio clamped when no try fits (very wide images)', () => {
    // 10 px high: any box of >= 8% of the area with ratio <= 4/3 is taller than the image.
    const b = randomResizedCropBox(mulberry32(5), 10, 1000);
    assert.deepEqual(b, { top: 0, left: 493, height: 10, width: 13 });
  });

  it('resizes the shorter side to 256/224 of the crop and keeps the centre, as torchvision evaluates ImageNet', () => {
    // 300 high, 200 wide: width 200 -> 256, height 300 * 256/200 = 384.
    assert.deepEqual(centreCropGeometry(300, 200, [224, 224], IMAGENET_EVAL_CROP_FRACTION), {
      resizeHeight: 384,
      resizeWidth: 256,
      crop: { top: 80, left: 16, height: 224, width: 224 },
    });
    // A typical ImageNet photo, 375 x 500: 500 * 256/375 = 341.33 truncates to 341; (341-224)/2 = 58.5 rounds to 58.
    assert.deepEqual(centreCropGeometry(375, 500, [224, 224], IMAGENET_EVAL_CROP_FRACTION).crop, {
      top: 16,
      left: 58,
      height: 224,
      width: 224,
    });
    // Smaller models scale the same way: 64 / (224/256) = 73.14 -> 73.
    assert.equal(centreCropGeometry(300, 200, [64, 64], IMAGENET_EVAL_CROP_FRACTION).resizeWidth, 73);
  });

  it('with cropFraction 1 scales the image to just cover the target, also for non-square targets', () => {
    assert.deepEqual(centreCropGeometry(8, 8, [8, 8], 1), {
      resizeHeight: 8,
      resizeWidth: 8,
      crop: { top: 0, left: 0, height: 8, width: 8 },
    });
    assert.deepEqual(centreCropGeometry(100, 100, [32, 48], 1), {
      resizeHeight: 48,
      resizeWidth: 48,
      crop: { top: 8, left: 0, height: 32, width: 48 },
    });
    assert.throws(() => centreCropGeometry(10, 10, [8, 8], 0), /cropFraction must be in \(0, 1\]/);
  });
});
