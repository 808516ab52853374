import path from 'node:path';
import { DatasetError } from './errors/dataset.error';
import { pathKind, visibleEntries } from './fs-helpers';

// The ImageFolder layout (root/<split>/<class>/*.jpg), as the in-memory reader and the on-demand
// ImageNet source both read it.

export type ImageFolderSplit = 'train' | 'test' | 'val';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
/** Enough decodes in flight to keep libuv's thread pool busy without holding many images at once. */
export const DECODE_CONCURRENCY = 16;

export interface ImageFile {
  path: string;
  label: number;
}

export async function listClasses(root: string, split: ImageFolderSplit): Promise<string[]> {
  const splitDir = path.join(root, split);
  if ((await pathKind(splitDir)) !== 'directory') {
    const found = (await pathKind(root)) === 'directory' ? (await visibleEntries(root)).join(', ') : '';
    throw new DatasetError(
      `No '${split}' folder in ${root}: expected ${splitDir}/<class>/*.jpg|jpeg|png` +
        (found === '' ? '.' : ` (found: ${found}).`),
    );
  }
  const classNames = await subfolders(splitDir);
  if (classNames.length === 0) {
    throw new DatasetError(
      `${splitDir} has no class subfolders: put each class's images in ${splitDir}/<class name>/.`,
    );
  }
  if (split !== 'train') await checkSameClassesAsTrain(root, splitDir, classNames);
  return classNames;
}

/** Folder names in code-unit order (Python's sorted() order for ordinary names, like torchvision). */
async function subfolders(folder: string): Promise<string[]> {
  const names = await visibleEntries(folder);
  const kinds = await Promise.all(names.map((name) => pathKind(path.join(folder, name))));
  return names.filter((_, i) => kinds[i] === 'directory').sort();
}

/** Labels are folder positions, so a class missing from one split would shift every later label. */
async function checkSameClassesAsTrain(root: string, splitDir: string, classNames: string[]): Promise<void> {
  const trainDir = path.join(root, 'train');
  if ((await pathKind(trainDir)) !== 'directory') return;
  const trainClasses = await subfolders(trainDir);
  const missing = trainClasses.filter((name) => !classNames.includes(name));
  const extra = classNames.filter((name) => !trainClasses.includes(name));
  if (missing.length === 0 && extra.length === 0) return;
  const list = (names: string[]): string => names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
  throw new DatasetError(
    `The class folders of ${splitDir} differ from ${trainDir}` +
      (missing.length > 0 ? `; missing: ${list(missing)}` : '') +
      (extra.length > 0 ? `; not in train: ${list(extra)}` : '') +
      `. Labels are the sorted class folder names, so both splits need the same class folders (an empty class needs no images in test, but its folder must exist).`,
  );
}

export async function listImageFiles(splitDir: string, classNames: string[]): Promise<ImageFile[]> {
  const perClass = await Promise.all(
    classNames.map(async (className, label) => {
      const classDir = path.join(splitDir, className);
      const names = (await visibleEntries(classDir))
        .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
        .sort();
      if (names.length === 0) {
        throw new DatasetError(
          `Class folder ${classDir} has no images (.jpg, .jpeg or .png). Add images or remove the folder: ` +
            `every subfolder of ${splitDir} is taken as a class.`,
        );
      }
      return names.map((name) => ({ path: path.join(classDir, name), label }));
    }),
  );
  return perClass.flat();
}

export function undecodable(file: string, error: unknown): DatasetError {
  return new DatasetError(
    `Cannot decode image ${file}: ${(error as Error).message}. The file may be truncated or not a real ` +
      `JPEG/PNG; replace or delete it.`,
    { cause: error },
  );
}
