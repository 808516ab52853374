import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
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
 * keyed by the archive's path, size and mtime, so a replaced archive is extracted afresh. Extraction
 * goes to a staging folder that is renamed into place only when tar succeeds, so an interrupted
 * run never leaves a half-extracted folder that a later run would trust.
 */
export async function extractArchiveOnce(archive: string, cacheDir: string): Promise<string> {
  const stats = await fs.stat(archive);
  const key = createHash('sha256')
    .update(`${archive}\0${stats.size}\0${stats.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  const name = path.basename(archive).replace(/\.(tar\.gz|tgz)$/i, '');
  const target = path.join(cacheDir, `extracted-${name}-${key}`);
  if ((await pathKind(target)) === 'directory') return target;

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
        `(re-download it), or ${cacheDir} may be out of space (set RESNET_CACHE_DIR to a roomier folder).`,
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
