import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stagingPath } from './dataset-cache';
import { DatasetError } from './errors/dataset.error';
import { pathKind } from './fs-helpers';

const execFileAsync = promisify(execFile);

export function isTarGz(file: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(file);
}

/**
 * Extracts `archive` into the cache folder once and returns the extracted folder. The folder is
 * keyed by a hash of the archive's bytes: the same archive in two clones (or copied, with new
 * mtimes) shares one extraction, and a replaced archive is extracted afresh. Hashing reads the
 * archive once per open (CIFAR-10's 20 MB: tens of milliseconds), far less than extracting. Extraction
 * goes to a staging folder that is renamed into place only when tar succeeds, so an interrupted
 * run never leaves a half-extracted folder that a later run would trust.
 */
export async function extractArchiveOnce(
  archive: string,
  cacheDir: string,
  /** Called when the archive is not extracted yet and tar starts. */
  onExtracting?: () => void,
): Promise<string> {
  const key = (await contentHash(archive)).slice(0, 16);
  const name = path.basename(archive).replace(/\.(tar\.gz|tgz)$/i, '');
  const target = path.join(cacheDir, `extracted-${name}-${key}`);
  // A dataset's splits open side by side: one extraction serves both.
  let extraction = extractions.get(target);
  if (!extraction) {
    extraction = extractInto(archive, cacheDir, target, onExtracting).finally(() =>
      extractions.delete(target),
    );
    extractions.set(target, extraction);
  }
  return extraction;
}

/** Extractions under way in this process, by target folder. */
const extractions = new Map<string, Promise<string>>();

async function extractInto(
  archive: string,
  cacheDir: string,
  target: string,
  onExtracting?: () => void,
): Promise<string> {
  if ((await pathKind(target)) === 'directory') return target;
  onExtracting?.();

  await fs.mkdir(cacheDir, { recursive: true });
  const staging = stagingPath(target);
  await fs.mkdir(staging);
  try {
    // --no-same-owner: when run as root, tar would otherwise recreate the archive's uids.
    await execFileAsync('tar', ['-xzf', archive, '-C', staging, '--no-same-owner']);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new DatasetError(
      `Cannot extract ${archive} with tar -xzf: ${detail}. The archive may be truncated or not a gzipped tar ` +
        `(re-download it), or ${cacheDir} may be out of space (set DATA_CACHE_DIR to a roomier folder).`,
      { cause: error },
    );
  }
  try {
    await fs.rename(staging, target);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    // Another process extracting the same archive got there first; its copy is just as good.
    if ((await pathKind(target)) !== 'directory') throw error;
  }
  return target;
}

async function contentHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
