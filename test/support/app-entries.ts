import * as path from 'node:path';
import { AppEntries } from '@resnet/local-cluster';

/** The apps' entry points in the build the tests run from (dist/test/support → dist/apps). */
export const APP_ENTRIES: AppEntries = {
  coordinator: path.resolve(__dirname, '../../apps/coordinator/src/main.js'),
  worker: path.resolve(__dirname, '../../apps/worker/src/main.js'),
  aggregator: path.resolve(__dirname, '../../apps/aggregator/src/main.js'),
};
