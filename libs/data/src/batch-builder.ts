import { ImageTable } from './image-table';
import { copyNormalised, normalisationTable } from './pixel-normalisation';
import { hashSeed, mulberry32, randomInt } from './random';

export type ChannelTriple = [number, number, number];

export interface ChannelStats {
  mean: ChannelTriple;
  std: ChannelTriple;
}

export interface AugmentOptions {
  /** Zero-pad this many pixels on each side, then crop back to the original size; 0 turns cropping off (CIFAR uses 4). */
  padCrop: number;
  /** Mirror left-right with probability 0.5. */
  flip: boolean;
}

export interface BatchOptions {
  seed: number;
  epoch: number;
  /** Null for evaluation: images are only normalised. */
  augment: AugmentOptions | null;
  mean: readonly number[];
  std: readonly number[];
}

export interface Batch {
  /** count * height * width * 3 values, NHWC, normalised. */
  x: Float32Array;
  y: Int32Array;
  count: number;
}

/** Per-channel mean and population std of pixel/255 over every pixel of every image. */
export function channelStats(table: ImageTable): ChannelStats {
  const pixels = table.images.length / 3;
  if (pixels === 0) throw new RangeError('channelStats needs at least one image');
  // Integer sums stay exact in doubles (below 2^53) for any table that fits in memory.
  let sumR = 0,
    sumG = 0,
    sumB = 0,
    squaresR = 0,
    squaresG = 0,
    squaresB = 0;
  const images = table.images;
  for (let i = 0; i < images.length; i += 3) {
    const r = images[i],
      g = images[i + 1],
      b = images[i + 2];
    sumR += r;
    sumG += g;
    sumB += b;
    squaresR += r * r;
    squaresG += g * g;
    squaresB += b * b;
  }
  const stats = (sum: number, squares: number): [number, number] => {
    const mean = sum / pixels / 255;
    const variance = Math.max(0, squares / pixels / (255 * 255) - mean * mean);
    return [mean, Math.sqrt(variance)];
  };
  const [meanR, stdR] = stats(sumR, squaresR);
  const [meanG, stdG] = stats(sumG, squaresG);
  const [meanB, stdB] = stats(sumB, squaresB);
  return { mean: [meanR, meanG, meanB], std: [stdR, stdG, stdB] };
}

/**
 * Gathers table[indices] into one normalised NHWC batch, augmenting if asked. A sample's crop
 * offsets and flip come from hashSeed(seed, epoch, dataset index), so they do not depend on
 * which worker, shard or batch position the sample lands in.
 */
export function buildBatch(table: ImageTable, indices: ArrayLike<number>, options: BatchOptions): Batch {
  const { height, width } = table;
  const count = indices.length;
  const imageValues = height * width * 3;
  const normalised = normalisationTable(options.mean, options.std);
  const pad = options.augment?.padCrop ?? 0;
  if (!Number.isInteger(pad) || pad < 0)
    throw new RangeError(`padCrop must be a whole number >= 0, got ${pad}`);
  const x = new Float32Array(count * imageValues);
  const y = new Int32Array(count);

  for (let k = 0; k < count; k++) {
    const index = indices[k];
    if (!Number.isInteger(index) || index < 0 || index >= table.size) {
      throw new RangeError(`sample index ${index} is outside the table of ${table.size} images`);
    }
    y[k] = table.labels[index];
    let offsetY = 0,
      offsetX = 0,
      flip = false;
    if (options.augment !== null) {
      const random = mulberry32(hashSeed(options.seed, options.epoch, index));
      // Always draw all three, so turning one augmentation off does not change the others.
      offsetY = randomInt(random, 2 * pad + 1) - pad;
      offsetX = randomInt(random, 2 * pad + 1) - pad;
      flip = random() < 0.5 && options.augment.flip;
    }
    copyNormalised(
      table.images,
      index * imageValues,
      x,
      k * imageValues,
      height,
      width,
      offsetY,
      offsetX,
      flip,
      normalised,
    );
  }
  return { x, y, count };
}
