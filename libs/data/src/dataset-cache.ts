import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where decoded tables and extracted archives live: an explicit folder, else $RESNET_CACHE_DIR,
 * else a folder in the OS temp dir. Kept outside the repo and the data folder, which may be
 * read-only or shared.
 */
export function resolveCacheDir(explicit?: string): string {
  const configured = explicit ?? process.env.RESNET_CACHE_DIR;
  return path.resolve(
    configured !== undefined && configured !== ''
      ? configured
      : path.join(os.tmpdir(), 'resnet-cluster-cache'),
  );
}

/** A unique sibling name for staging `target`, on the same file system so rename is atomic. */
export function stagingPath(target: string): string {
  return `${target}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Writes through a temp file and renames it into place, so a reader (another worker process,
 * or the next run after a crash) sees either no file or the complete file, never a partial one.
 */
export async function writeFileAtomically(
  target: string,
  write: (handle: fs.FileHandle) => Promise<void>,
): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const staging = stagingPath(target);
  try {
    const handle = await fs.open(staging, 'w');
    try {
      await write(handle);
    } finally {
      await handle.close();
    }
    await fs.rename(staging, target);
  } catch (error) {
    await fs.rm(staging, { force: true });
    throw error;
  }
}
