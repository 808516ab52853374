import * as path from 'node:path';
import { AugmentOptions, buildBatch } from './batch-builder';
import { openDataset } from './dataset-loader';
import { DatasetError } from './errors/dataset.error';
import { ImageTable } from './image-table';
import { shardSamples, stepSamples } from './step-plan';
import { generateSyntheticTable } from './synthetic-dataset';

/** Where a job's images come from: a generated learnable set, or a folder/archive under the data root. */
export type DatasetRef =
  | {
      readonly kind: 'synthetic';
      readonly trainSize: number;
      readonly testSize: number;
      readonly imageSize: number;
      readonly numClasses: number;
      readonly seed: number;
    }
  | { readonly kind: 'folder'; readonly path: string };

export interface DatasetSplits {
  readonly train: ImageTable;
  readonly test: ImageTable;
}

/**
 * Resolves a dataset path against the data root and refuses any that escape it (`..`, absolute
 * paths elsewhere, symlink tricks in the request), so a REST caller cannot read arbitrary files.
 */
export function resolveUnderRoot(dataRoot: string, relative: string): string {
  const root = path.resolve(dataRoot);
  const resolved = path.resolve(root, relative);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new DatasetError(`dataset path "${relative}" leaves the data root ${root}; give a path inside it`);
  }
  return resolved;
}

export async function openDatasetSplits(ref: DatasetRef, dataRoot: string): Promise<DatasetSplits> {
  if (ref.kind === 'synthetic') {
    const common = { height: ref.imageSize, width: ref.imageSize, numClasses: ref.numClasses };
    // Class patterns do not depend on the seed, so a second seed gives a test set of the same task.
    return {
      train: generateSyntheticTable({ ...common, size: ref.trainSize, seed: ref.seed }),
      test: generateSyntheticTable({ ...common, size: ref.testSize, seed: ref.seed + 1 }),
    };
  }
  const location = resolveUnderRoot(dataRoot, ref.path);
  const [train, test] = await Promise.all([openDataset(location, 'train'), openDataset(location, 'test')]);
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

/** The augmented, normalised images of one shard of one global step; the same on every machine. */
export function shardBatch(
  train: ImageTable,
  sampling: ShardSampling,
  step: number,
  shard: number,
): ShardImages {
  const plan = { ...sampling, datasetSize: train.size };
  const indices = shardSamples(plan, step, shard);
  const { epoch } = stepSamples(plan, step);
  const batch = buildBatch(train, indices, {
    seed: sampling.seed,
    epoch,
    augment: sampling.augment,
    ...sampling.normalization,
  });
  return { ...batch, height: train.height, width: train.width };
}

/** Test images start..end-1, normalised, not augmented. */
export function evalBatch(
  test: ImageTable,
  start: number,
  end: number,
  normalization: ShardSampling['normalization'],
): ShardImages {
  const indices = Array.from({ length: end - start }, (_, i) => start + i);
  const batch = buildBatch(test, indices, { seed: 0, epoch: 0, augment: null, ...normalization });
  return { ...batch, height: test.height, width: test.width };
}
