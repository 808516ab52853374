import path from 'node:path';
import { findCifarBinaryFolder, readCifarBinary } from './cifar-binary-reader';
import { extractArchiveOnce, isTarGz } from './dataset-archive';
import { resolveCacheDir } from './dataset-cache';
import { DatasetProgressListener } from './dataset-progress';
import { DatasetError } from './errors/dataset.error';
import { pathKind, visibleEntries } from './fs-helpers';
import { readImageFolder } from './image-folder-reader';
import { ImageTable } from './image-table';

export type DatasetSplit = 'train' | 'test' | 'val';
export type DatasetLayout = 'cifar-binary' | 'image-folder';

export interface OpenDatasetOptions {
  /** [height, width] to resize image-folder datasets to (CIFAR binary is always 32x32). */
  size?: readonly [number, number];
  /** Cache folder for decoded tables and extracted archives; defaults as in resolveCacheDir. */
  cacheDir?: string;
  /** Told as an archive is extracted and as each image of an image folder is decoded. */
  onProgress?: DatasetProgressListener;
}

const SPLIT_FOLDERS: readonly DatasetSplit[] = ['train', 'test', 'val'];
const EXPECTED_LAYOUTS =
  'CIFAR-10 binary (data_batch_1.bin..data_batch_5.bin and test_batch.bin, or a cifar-10-batches-bin/ folder ' +
  'holding them), or an image folder (train/, test/ or val/, each with one subfolder of .jpg/.jpeg/.png images ' +
  'per class), or a .tar.gz/.tgz archive of either';

/** Opens a dataset folder or .tar.gz archive in whichever supported layout it has. */
export async function openDataset(
  location: string,
  split: DatasetSplit,
  options: OpenDatasetOptions = {},
): Promise<ImageTable> {
  const resolved = path.resolve(location);
  const kind = await pathKind(resolved);
  if (kind === null) {
    throw new DatasetError(`Dataset ${resolved} does not exist. Pass the path of ${EXPECTED_LAYOUTS}.`);
  }
  if (kind === 'file' && isTarGz(resolved)) {
    const extracted = await extractArchiveOnce(resolved, resolveCacheDir(options.cacheDir), () =>
      options.onProgress?.({ split, phase: 'extracting', done: 0, total: 0 }),
    );
    return openFolder(
      await archiveDatasetRoot(extracted),
      split,
      options,
      `${resolved} (extracted to ${extracted})`,
    );
  }
  if (kind !== 'directory') {
    throw new DatasetError(
      `Dataset ${resolved} is neither a folder nor a .tar.gz/.tgz archive. Pass the path of ${EXPECTED_LAYOUTS}.`,
    );
  }
  return openFolder(resolved, split, options, resolved);
}

export async function detectDatasetLayout(folder: string): Promise<DatasetLayout | null> {
  if ((await findCifarBinaryFolder(folder)) !== null) return 'cifar-binary';
  const splitKinds = await Promise.all(SPLIT_FOLDERS.map((split) => pathKind(path.join(folder, split))));
  return splitKinds.includes('directory') ? 'image-folder' : null;
}

async function openFolder(
  folder: string,
  split: DatasetSplit,
  options: OpenDatasetOptions,
  /** How to name the dataset in errors: the archive and where it went, for extracted archives. */
  source: string,
): Promise<ImageTable> {
  switch (await detectDatasetLayout(folder)) {
    case 'cifar-binary':
      return openCifarBinary(folder, split, options);
    case 'image-folder':
      return readImageFolder(folder, split, options);
    case null: {
      const entries = await visibleEntries(folder);
      const found =
        entries.length === 0
          ? 'it is empty'
          : `found: ${entries.slice(0, 10).join(', ')}${entries.length > 10 ? ', ...' : ''}`;
      throw new DatasetError(
        `${source} has no recognised dataset layout (${found}). Expected ${EXPECTED_LAYOUTS}.`,
      );
    }
  }
}

function openCifarBinary(
  folder: string,
  split: DatasetSplit,
  options: OpenDatasetOptions,
): Promise<ImageTable> {
  if (split === 'val') {
    throw new DatasetError(
      `${folder} holds CIFAR-10 binary data, which has only 'train' and 'test' splits; use 'test' instead of 'val'.`,
    );
  }
  if (options.size !== undefined && (options.size[0] !== 32 || options.size[1] !== 32)) {
    throw new DatasetError(
      `${folder} holds CIFAR-10 binary data, which is always 32x32; resizing it to ${options.size.join('x')} is not supported. Drop the size option.`,
    );
  }
  return readCifarBinary(folder, split);
}

/** Archives often wrap the dataset in one top-level folder (cifar10-images/train/...): look inside it. */
async function archiveDatasetRoot(extracted: string): Promise<string> {
  if ((await detectDatasetLayout(extracted)) !== null) return extracted;
  // __MACOSX/ is resource-fork clutter added by the macOS archiver.
  const entries = (await visibleEntries(extracted)).filter((name) => name !== '__MACOSX');
  if (entries.length === 1 && (await pathKind(path.join(extracted, entries[0]))) === 'directory') {
    return path.join(extracted, entries[0]);
  }
  return extracted;
}
