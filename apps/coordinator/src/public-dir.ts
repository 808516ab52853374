import * as fs from 'node:fs';
import * as path from 'node:path';

/** The dashboard's HTML, CSS and ES modules live outside the TypeScript tree, so tsc leaves them be. */
const PUBLIC_DIR = path.join('apps', 'coordinator', 'public');

/**
 * The dashboard's files, found from this module upwards, so that the app runs from the sources,
 * dist/ or any other build folder of the repository.
 */
export function dashboardPublicDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, PUBLIC_DIR);
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir)
      throw new Error(`dashboard files ${PUBLIC_DIR}/index.html not found above ${__dirname}`);
  }
}
