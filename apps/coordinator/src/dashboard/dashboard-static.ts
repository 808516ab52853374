import * as fs from 'node:fs';
import * as path from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';

/** The dashboard's HTML, CSS and ES modules live outside the TypeScript tree, so tsc leaves them be. */
const PUBLIC_DIR = path.join('apps', 'coordinator', 'public');

/**
 * Serves the dashboard at / and Chart.js from node_modules at /vendor/chart.js/ (no CDN: clusters
 * are often offline). The files are found from this module upwards, so that the app runs from the
 * sources, dist/ or any other build folder of the repository.
 */
export function serveDashboard(app: NestExpressApplication): void {
  app.useStaticAssets(findUp(__dirname, PUBLIC_DIR));
  app.useStaticAssets(path.dirname(require.resolve('chart.js')), { prefix: '/vendor/chart.js/' });
  for (const font of QUEUE_BOARD_FONTS) {
    app.useStaticAssets(path.dirname(require.resolve(`@fontsource/${font}/package.json`)), {
      prefix: `/vendor/${font}/`,
    });
  }
}

/** The fonts bull-board's page (/queues) would fetch from Google, served here instead (see QueueBoardModule). */
export const QUEUE_BOARD_FONTS = ['ibm-plex-sans', 'ibm-plex-mono'] as const;

function findUp(start: string, relative: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir)
      throw new Error(`dashboard files ${relative}/index.html not found above ${start}`);
  }
}
