import * as fs from 'node:fs';
import * as path from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';

/** The dashboard's HTML, CSS and ES modules live outside the TypeScript tree, so tsc leaves them be. */
const PUBLIC_DIR = path.join('apps', 'coordinator', 'public');

/**
 * Serves the dashboard at /, Chart.js and TF.js from node_modules at /vendor/chart.js/ and
 * /vendor/tfjs/ (no CDN: clusters are often offline), and the shipped models' files at
 * /models/<name>/ (their pages are ModelPagesController's).
 */
export function serveDashboard(app: NestExpressApplication, modelsDir: string): void {
  app.useStaticAssets(dashboardPublicDir());
  app.useStaticAssets(path.dirname(require.resolve('chart.js')), { prefix: '/vendor/chart.js/' });
  app.useStaticAssets(path.dirname(require.resolve('@tensorflow/tfjs/dist/tf.min.js')), {
    prefix: '/vendor/tfjs/',
  });
  // No directory redirect or index: /models/<name> itself is the model's page.
  app.useStaticAssets(modelsDir, { prefix: '/models/', redirect: false, index: false });
}

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
