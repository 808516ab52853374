import * as path from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';
import { dashboardPublicDir } from '../public-dir';

/**
 * Serves the dashboard at /, Chart.js and TF.js from node_modules at /vendor/chart.js/ and
 * /vendor/tfjs/, bull-board's fonts at /vendor/<font>/ (no CDN: clusters are often offline), and
 * the shipped models' files at /models/<name>/ (their pages are ModelPagesController's).
 */
export function serveDashboard(app: NestExpressApplication, modelsDir: string): void {
  app.useStaticAssets(dashboardPublicDir());
  app.useStaticAssets(path.dirname(require.resolve('chart.js')), { prefix: '/vendor/chart.js/' });
  app.useStaticAssets(path.dirname(require.resolve('@tensorflow/tfjs/dist/tf.min.js')), {
    prefix: '/vendor/tfjs/',
  });
  // No directory redirect or index: /models/<name> itself is the model's page.
  app.useStaticAssets(modelsDir, { prefix: '/models/', redirect: false, index: false });
  for (const font of QUEUE_BOARD_FONTS) {
    app.useStaticAssets(path.dirname(require.resolve(`@fontsource/${font}/package.json`)), {
      prefix: `/vendor/${font}/`,
    });
  }
}

/** The fonts bull-board's page (/queues) would fetch from Google, served here instead (see QueueBoardModule). */
export const QUEUE_BOARD_FONTS = ['ibm-plex-sans', 'ibm-plex-mono'] as const;
