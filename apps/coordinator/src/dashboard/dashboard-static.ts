import * as path from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';
import { dashboardPublicDir } from '../public-dir';

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
