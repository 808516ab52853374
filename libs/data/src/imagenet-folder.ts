import path from 'node:path';
import { Batch, BatchOptions, ChannelStats } from './batch-builder';
import { IMAGENET_EVAL_CROP_FRACTION } from './crop-geometry';
import { DatasetError } from './errors/dataset.error';
import { forEachIndexConcurrently, pathKind } from './fs-helpers';
import { centreCrop, randomResizedCrop } from './image-crops';
import {
  DECODE_CONCURRENCY,
  ImageFile,
  ImageFolderSplit,
  listClasses,
  listImageFiles,
} from './image-folder-files';
import { copyNormalised, normalisationTable } from './pixel-normalisation';
import { hashSeed, mulberry32 } from './random';

/** Per-channel mean and std of ImageNet's training pixels (/255), the constants every reference script uses. */
export const IMAGENET_NORMALIZATION: ChannelStats = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
export const IMAGENET_IMAGE_SIZE = 224;

/**
 * One split of an ImageFolder dataset too large to decode up front (ImageNet: 1.28M JPEGs): only
 * the file list is held, and each batch decodes its images straight to imageSize × imageSize.
 * Training batches take a RandomResizedCrop and flip per sample drawn from hashSeed(seed, epoch,
 * index), so they do not depend on the worker or shard; evaluation batches (augment null) resize
 * the shorter side to imageSize·256/224 and keep the central square.
 */
export class OnDemandImageFolder {
  private constructor(
    readonly classNames: readonly string[],
    private readonly files: readonly ImageFile[],
    readonly imageSize: number,
  ) {}

  static async open(root: string, split: ImageFolderSplit, imageSize: number): Promise<OnDemandImageFolder> {
    if (!Number.isInteger(imageSize) || imageSize < 1) {
      throw new DatasetError(`The image size must be a whole number of pixels >= 1, got ${imageSize}`);
    }
    const classNames = await listClasses(root, split);
    return new OnDemandImageFolder(
      classNames,
      await listImageFiles(path.join(root, split), classNames),
      imageSize,
    );
  }

  get size(): number {
    return this.files.length;
  }

  get height(): number {
    return this.imageSize;
  }

  get width(): number {
    return this.imageSize;
  }

  /** The images at `indices`, normalised NHWC, like buildBatch for an in-memory table. */
  async batch(indices: ArrayLike<number>, options: BatchOptions): Promise<Batch> {
    const size = this.imageSize;
    const imageValues = size * size * 3;
    const lookup = normalisationTable(options.mean, options.std);
    const x = new Float32Array(indices.length * imageValues);
    const y = new Int32Array(indices.length);
    await forEachIndexConcurrently(indices.length, DECODE_CONCURRENCY, async (k) => {
      const index = indices[k];
      const file = this.files[index];
      if (file === undefined) {
        throw new RangeError(`sample index ${index} is outside the folder of ${this.size} images`);
      }
      y[k] = file.label;
      let pixels: Uint8Array;
      let flip = false;
      if (options.augment === null) {
        pixels = await centreCrop(file.path, [size, size], IMAGENET_EVAL_CROP_FRACTION);
      } else {
        const random = mulberry32(hashSeed(options.seed, options.epoch, index));
        pixels = await randomResizedCrop(file.path, size, random);
        // Drawn even when flipping is off, as buildBatch does, so the switch leaves the crops alone.
        flip = random() < 0.5 && options.augment.flip;
      }
      copyNormalised(pixels, 0, x, k * imageValues, size, size, 0, 0, flip, lookup);
    });
    return { x, y, count: indices.length };
  }
}

/**
 * The train split and the evaluation split of an ImageNet-style folder: val/ (ImageNet's name,
 * with the validation images sorted into class folders) or else test/.
 */
export async function openImageNetFolder(
  root: string,
  imageSize: number,
): Promise<{ train: OnDemandImageFolder; test: OnDemandImageFolder }> {
  const [hasVal, hasTest] = await Promise.all(
    ['val', 'test'].map(async (split) => (await pathKind(path.join(root, split))) === 'directory'),
  );
  if (!hasVal && !hasTest) {
    throw new DatasetError(
      `${root} has no val/ or test/ folder to evaluate on. Expected ImageNet's layout: train/<class>/*.JPEG and ` +
        `val/<class>/*.JPEG (the validation images sorted into the same class folders as train/).`,
    );
  }
  const [train, test] = await Promise.all([
    OnDemandImageFolder.open(root, 'train', imageSize),
    OnDemandImageFolder.open(root, hasVal ? 'val' : 'test', imageSize),
  ]);
  return { train, test };
}
