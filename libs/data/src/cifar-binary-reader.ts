import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DatasetError } from './errors/dataset.error';
import { isNotFound, pathKind } from './fs-helpers';
import { createImageTable, ImageTable } from './image-table';

export const CIFAR_BINARY_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const SIDE = 32;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = 3 * PLANE;
const RECORD_BYTES = 1 + IMAGE_BYTES;
const SPLIT_FILES: Record<'train' | 'test', readonly string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

/**
 * The folder holding the CIFAR-10 .bin files: `dir` itself if it has data_batch_1.bin, or its
 * cifar-10-batches-bin/ child (the layout the official tarball extracts to). Null if neither.
 */
export async function findCifarBinaryFolder(dir: string): Promise<string | null> {
  if ((await pathKind(path.join(dir, SPLIT_FILES.train[0]))) === 'file') return dir;
  const nested = path.join(dir, CIFAR_BINARY_FOLDER);
  return (await pathKind(nested)) === 'directory' ? nested : null;
}

/** Reads the official CIFAR-10 binary version (cifar-10-binary.tar.gz) into an HWC table. */
export async function readCifarBinary(dir: string, split: 'train' | 'test'): Promise<ImageTable> {
  const root = path.resolve(dir);
  const folder = await findCifarBinaryFolder(root);
  if (folder === null) {
    throw new DatasetError(
      `No CIFAR-10 binary data in ${root}: expected ${SPLIT_FILES.train[0]} there or a ${CIFAR_BINARY_FOLDER}/ folder ` +
        `inside it. Extract cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and pass that folder.`,
    );
  }
  const files = await Promise.all(SPLIT_FILES[split].map((name) => readBatchFile(path.join(folder, name))));
  const classNames = await readClassNames(folder);
  const size = files.reduce((total, file) => total + file.length / RECORD_BYTES, 0);
  const images = new Uint8Array(size * IMAGE_BYTES);
  const labels = new Int32Array(size);
  let record = 0;
  for (const [fileIndex, bytes] of files.entries()) {
    for (let offset = 0; offset < bytes.length; offset += RECORD_BYTES, record++) {
      const label = bytes[offset];
      if (label >= classNames.length) {
        const file = path.join(folder, SPLIT_FILES[split][fileIndex]);
        throw new DatasetError(
          `${file}: record ${offset / RECORD_BYTES} has label ${label} but there are only ${classNames.length} classes. ` +
            `This is not CIFAR-10 binary data (CIFAR-100 is not supported) or the file is corrupt; re-download it.`,
        );
      }
      labels[record] = label;
      planarToInterleaved(bytes, offset + 1, images, record * IMAGE_BYTES);
    }
  }
  return createImageTable({ height: SIDE, width: SIDE, classNames, images, labels });
}

async function readBatchFile(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const problem = isNotFound(error) ? 'is missing' : `cannot be read (${(error as Error).message})`;
    throw new DatasetError(
      `CIFAR-10 batch ${file} ${problem}. The folder needs data_batch_1.bin..data_batch_5.bin and ` +
        `test_batch.bin; re-extract cifar-10-binary.tar.gz into it.`,
      { cause: error },
    );
  }
  if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
    throw new DatasetError(
      `${file} is truncated or not CIFAR-10 binary data: its ${bytes.length} bytes are not a positive multiple of ` +
        `${RECORD_BYTES} (1 label byte + 3072 pixel bytes per image). Re-download and re-extract cifar-10-binary.tar.gz.`,
    );
  }
  return bytes;
}

/** batches.meta.txt lists one class name per line (plus trailing blank lines); optional. */
async function readClassNames(folder: string): Promise<readonly string[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(folder, 'batches.meta.txt'), 'utf8');
  } catch {
    return CIFAR10_CLASS_NAMES;
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return names.length > 0 ? names : CIFAR10_CLASS_NAMES;
}

/** One CIFAR record's R, G and B planes (CHW) to interleaved RGB pixels (HWC). */
function planarToInterleaved(
  source: Uint8Array,
  start: number,
  target: Uint8Array,
  targetStart: number,
): void {
  for (let pixel = 0, out = targetStart; pixel < PLANE; pixel++, out += 3) {
    target[out] = source[start + pixel];
    target[out + 1] = source[start + PLANE + pixel];
    target[out + 2] = source[start + 2 * PLANE + pixel];
  }
}
