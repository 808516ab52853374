import { ImageTable } from './image-table';
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

/**
 * value = (byte/255 - mean[c]) / std[c] for every byte and channel, so the per-pixel work is a
 * table lookup. Entry c*256 (byte 0) is also what zero padding normalises to.
 */
function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== 3 || std.length !== 3 || !std.every((s) => s > 0)) {
    throw new RangeError(
      `mean and std need 3 channel values with std > 0, got mean [${mean.join(', ')}], std [${std.join(', ')}]`,
    );
  }
  const lookup = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lookup[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  }
  return lookup;
}

/**
 * Writes one output image: out(y, x) = padded(y + offsetY, x' + offsetX) with x' = width-1-x when
 * flipped, where padded() is 0 outside the source. This is torchvision's RandomCrop(padding) then
 * RandomHorizontalFlip.
 */
function copyNormalised(
  source: Uint8Array,
  sourceStart: number,
  target: Float32Array,
  targetStart: number,
  height: number,
  width: number,
  offsetY: number,
  offsetX: number,
  flip: boolean,
  lookup: Float32Array,
): void {
  const zeroR = lookup[0],
    zeroG = lookup[256],
    zeroB = lookup[512];
  let out = targetStart;
  for (let y = 0; y < height; y++) {
    const sourceY = y + offsetY;
    const rowInside = sourceY >= 0 && sourceY < height;
    const rowStart = sourceStart + sourceY * width * 3;
    for (let x = 0; x < width; x++, out += 3) {
      const sourceX = (flip ? width - 1 - x : x) + offsetX;
      if (rowInside && sourceX >= 0 && sourceX < width) {
        const from = rowStart + sourceX * 3;
        target[out] = lookup[source[from]];
        target[out + 1] = lookup[256 + source[from + 1]];
        target[out + 2] = lookup[512 + source[from + 2]];
      } else {
        target[out] = zeroR;
        target[out + 1] = zeroG;
        target[out + 2] = zeroB;
      }
    }
  }
}
