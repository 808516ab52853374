import * as path from 'node:path';
import { AugmentOptions, Batch, BatchOptions, buildBatch, ChannelStats, channelStats } from './batch-builder';
import { IMAGENET_EVAL_CROP_FRACTION } from './crop-geometry';
import { openDataset } from './dataset-loader';
import { DatasetProgressListener } from './dataset-progress';
import { DatasetError } from './errors/dataset.error';
import { ImageTable } from './image-table';
import {
  IMAGENET_IMAGE_SIZE,
  IMAGENET_NORMALIZATION,
  OnDemandImageFolder,
  openImageNetFolder,
} from './imagenet-folder';
import { shardSamples, stepSamples } from './step-plan';
import { generateSyntheticTable } from './synthetic-dataset';

/**
 * Where a job's images come from: a generated learnable set, a folder/archive under the data root
 * decoded into memory, or an ImageNet-style folder under the data root decoded batch by batch.
 */
export type DatasetRef =
  | {
      readonly kind: 'synthetic';
      readonly trainSize: number;
      readonly testSize: number;
      readonly imageSize: number;
      readonly numClasses: number;
      readonly seed: number;
    }
  | { readonly kind: 'folder'; readonly path: string }
  /** train/ and val/ (or test/) of class folders; images are cropped to imageSize (default 224). */
  | { readonly kind: 'imagenet-folder'; readonly path: string; readonly imageSize?: number };

/** A split's images: decoded into memory up front, or decoded on demand for each batch. */
export type SplitImages = ImageTable | OnDemandImageFolder;

export interface DatasetSplits {
  readonly train: SplitImages;
  readonly test: SplitImages;
}

/**
 * Resolves a dataset path against the data root and refuses any that escape it (`..`, absolute
 * paths elsewhere, symlink tricks in the request), so a REST caller cannot read arbitrary files.
 */
export function resolveUnderRoot(dataRoot: string, relative: string): string {
  // Checked here too, for specs that did not come through the REST API's validation.
  if (relative.includes('\0')) {
    throw new DatasetError(`dataset path ${JSON.stringify(relative)} contains a NUL byte; remove it`);
  }
  const root = path.resolve(dataRoot);
  const resolved = path.resolve(root, relative);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new DatasetError(`dataset path "${relative}" leaves the data root ${root}; give a path inside it`);
  }
  return resolved;
}

export async function openDatasetSplits(
  ref: DatasetRef,
  dataRoot: string,
  onProgress?: DatasetProgressListener,
): Promise<DatasetSplits> {
  if (ref.kind === 'synthetic') {
    const common = { height: ref.imageSize, width: ref.imageSize, numClasses: ref.numClasses };
    // Class patterns do not depend on the seed, so a second seed gives a test set of the same task.
    return {
      train: generateSyntheticTable({ ...common, size: ref.trainSize, seed: ref.seed }),
      test: generateSyntheticTable({ ...common, size: ref.testSize, seed: ref.seed + 1 }),
    };
  }
  const location = resolveUnderRoot(dataRoot, ref.path);
  if (ref.kind === 'imagenet-folder')
    return openImageNetFolder(location, ref.imageSize ?? IMAGENET_IMAGE_SIZE);
  const [train, test] = await Promise.all([
    openDataset(location, 'train', { onProgress }),
    openDataset(location, 'test', { onProgress }),
  ]);
  return { train, test };
}

/** The part of a training job that decides which samples a shard sees and how they are prepared. */
export interface ShardSampling {
  readonly batchSize: number;
  readonly shardsPerStep: number;
  readonly seed: number;
  readonly augment: AugmentOptions | null;
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

export interface ShardImages {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The per-channel statistics a dataset is normalised with: measured over an in-memory training
 * table; ImageNet's published constants for on-demand folders, where measuring would mean decoding
 * every image.
 */
export function normalizationOf(train: SplitImages): ChannelStats {
  return train instanceof OnDemandImageFolder ? IMAGENET_NORMALIZATION : channelStats(train);
}

/**
 * The share of the (resized) image that evaluation keeps: ImageNet's 224/256 centre crop for
 * imagenet-folder; all of it otherwise, where images already have the model's size. Whoever feeds
 * the trained model new images should crop them the same way (see centreCrop).
 */
export function evalCropFraction(ref: DatasetRef): number {
  return ref.kind === 'imagenet-folder' ? IMAGENET_EVAL_CROP_FRACTION : 1;
}

async function imagesAt(
  source: SplitImages,
  indices: ArrayLike<number>,
  options: BatchOptions,
): Promise<ShardImages> {
  const batch: Batch =
    source instanceof OnDemandImageFolder
      ? await source.batch(indices, options)
      : buildBatch(source, indices, options);
  return { ...batch, height: source.height, width: source.width };
}

/** The augmented, normalised images of one shard of one global step; the same on every machine. */
export function shardBatch(
  train: SplitImages,
  sampling: ShardSampling,
  step: number,
  shard: number,
): Promise<ShardImages> {
  const plan = { ...sampling, datasetSize: train.size };
  const indices = shardSamples(plan, step, shard);
  const { epoch } = stepSamples(plan, step);
  return imagesAt(train, indices, {
    seed: sampling.seed,
    epoch,
    augment: sampling.augment,
    ...sampling.normalization,
  });
}

/** Test images start..end-1, normalised, not augmented. */
export function evalBatch(
  test: SplitImages,
  start: number,
  end: number,
  normalization: ShardSampling['normalization'],
): Promise<ShardImages> {
  return evalImages(
    test,
    Array.from({ length: end - start }, (_, i) => start + i),
    normalization,
  );
}

/** The test images at `indices`, prepared as evaluation prepares them: normalised, not augmented. */
export function evalImages(
  test: SplitImages,
  indices: ArrayLike<number>,
  normalization: ShardSampling['normalization'],
): Promise<ShardImages> {
  return imagesAt(test, indices, { seed: 0, epoch: 0, augment: null, ...normalization });
}
