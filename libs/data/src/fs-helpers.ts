import { promises as fs } from 'node:fs';

export type PathKind = 'file' | 'directory' | 'other';

/** What is at a path (following symlinks), or null if nothing is. */
export async function pathKind(target: string): Promise<PathKind | null> {
  try {
    const stats = await fs.stat(target);
    if (stats.isDirectory()) return 'directory';
    return stats.isFile() ? 'file' : 'other';
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Names in a folder, skipping hidden entries (.DS_Store, ._foo from macOS archives and the like). */
export async function visibleEntries(folder: string): Promise<string[]> {
  const names = await fs.readdir(folder);
  return names.filter((name) => !name.startsWith('.'));
}

/**
 * Runs task(0..count-1) with at most `limit` in flight, starting them in index order. After a
 * failure no new task starts; once those in flight settle, the failure with the lowest index is
 * thrown, so "the first bad file" is the same on every run however the tasks interleave.
 */
export async function forEachIndexConcurrently(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  const failures: Array<{ index: number; error: unknown }> = [];
  let next = 0;
  const runWorker = async (): Promise<void> => {
    while (failures.length === 0 && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, runWorker));
  if (failures.length > 0) {
    throw failures.reduce((first, failure) => (failure.index < first.index ? failure : first)).error;
  }
}
