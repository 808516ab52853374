import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where decoded tables and extracted archives live: an explicit folder, else $DATA_CACHE_DIR, else
 * resnet-cluster/ in the user's cache folder ($XDG_CACHE_HOME, else ~/.cache). One folder per user,
 * not per clone: entries are keyed by content, so every clone and worker on the machine shares
 * them. Kept outside the repo and the data folder, which may be read-only or shared.
 */
export function resolveCacheDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = explicit || env.DATA_CACHE_DIR;
  if (configured) return path.resolve(configured);
  const userCache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.resolve(userCache, 'resnet-cluster');
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
