import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export const WNIDS = ['n01440764', 'n01443537', 'n01484850'] as const;
/** [height, width] of the generated images, cycled through: portrait, landscape, square, small. */
export const IMAGE_SIZES: ReadonlyArray<readonly [number, number]> = [
  [300, 200],
  [200, 300],
  [240, 240],
  [90, 120],
];

export function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `resnet-zoo-${prefix}-`));
}

/** The blue level of every pixel of class `label`'s images, so a decoded crop tells its class. */
export function classBlue(label: number): number {
  return 40 + 80 * label;
}

/**
 * Red ramps 0..255 across the width, green 0..255 down the height, blue is constant. Resampling
 * keeps linear ramps linear, so the source position of every output pixel can be read back.
 */
export function rampPixels(height: number, width: number, blue: number): Buffer {
  const pixels = Buffer.alloc(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set(
        [Math.round((255 * x) / (width - 1)), Math.round((255 * y) / (height - 1)), blue],
        (y * width + x) * 3,
      );
    }
  }
  return pixels;
}

export async function writeRampJpeg(
  file: string,
  height: number,
  width: number,
  blue: number,
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Full chroma resolution and top quality keep the ramps within a level or two of exact.
  await sharp(rampPixels(height, width, blue), { raw: { height, width, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toFile(file);
}

export interface WrittenImage {
  readonly split: 'train' | 'val';
  readonly label: number;
  readonly height: number;
  readonly width: number;
}

/**
 * root/train/<wnid>/<wnid>_<i>.JPEG (trainPerClass each) and root/val/<wnid>/val.JPEG (one each):
 * ramp images of varied IMAGE_SIZES with the class's blue. Returns them in file-listing order.
 */
export async function writeImageNetStyleFolder(root: string, trainPerClass: number): Promise<WrittenImage[]> {
  const written: WrittenImage[] = [];
  const write = async (
    split: 'train' | 'val',
    label: number,
    name: string,
    [height, width]: readonly [number, number],
  ) => {
    await writeRampJpeg(path.join(root, split, WNIDS[label], name), height, width, classBlue(label));
    written.push({ split, label, height, width });
  };
  for (const label of WNIDS.keys()) {
    for (let i = 0; i < trainPerClass; i++) {
      await write('train', label, `${WNIDS[label]}_${i}.JPEG`, IMAGE_SIZES[(label + i) % IMAGE_SIZES.length]);
    }
  }
  for (const label of WNIDS.keys())
    await write('val', label, 'val.JPEG', IMAGE_SIZES[(label + 1) % IMAGE_SIZES.length]);
  return written;
}
