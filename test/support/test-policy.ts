/**
 * How the suite treats tests that cannot run, and how long tests may take, each listed once.
 *
 * Outside CI a test whose optional dependency is missing is skipped with the reason. In CI
 * (`CI=true`, which `.ci/run` sets) that is a failure: CI installs every dependency, so a test that
 * does not run there has broken, unless it is on ALLOWED_PENDING with the reason it cannot run in
 * CI (like tfjs's TEST_FILTERS). The reporter (pending-policy.reporter.ts) fails a CI run with any
 * other pending test, and prints the pending tests and the runtime of each folder at the end.
 */

/** A test (or suite: a prefix of its full title) allowed to be pending in CI, and why. */
export interface AllowedPending {
  readonly title: string;
  readonly reason: string;
}

/** Reviewed: each entry names why CI cannot run the test. */
export const ALLOWED_PENDING: readonly AllowedPending[] = [
  {
    title: 'onednn backend backend selection the tensorflow route loads @tensorflow/tfjs-node',
    reason:
      '@tensorflow/tfjs-node downloads libtensorflow at install time, which CI cannot reach; ' +
      'the route is one dynamic import (libs/engine/src/compute-backend.ts)',
  },
  {
    title: 'onednn backend backend selection --backend onednn without the addon fails naming the fix',
    reason: 'CI builds the addon (.ci/run), so the machine never lacks it; runs where libdnnl-dev is absent',
  },
];

/** Mocha's timeout per test folder (the first path segment under test/, or `apps` and `bench` for unit specs beside the code). */
const SECONDS = 20_000;
const MINUTES = 300_000;
export const FOLDER_TIMEOUTS: Readonly<Record<string, number>> = {
  apps: SECONDS,
  bench: SECONDS,
  architecture: SECONDS,
  deploy: SECONDS,
  job: SECONDS,
  logging: SECONDS,
  optimizer: SECONDS,
  protocol: SECONDS,
  // Kernels and models computed on the cpu and wasm backends (data/ trains ResNet-18 a step on
  // decoded ImageNet-style crops), and private redis-servers started per suite.
  data: 60_000,
  model: 2 * 60_000,
  redis: 60_000,
  'redis-blobs': 60_000,
  engine: MINUTES,
  // Clusters of processes: Redis, coordinators and workers.
  cli: MINUTES,
  cluster: MINUTES,
  dashboard: MINUTES,
  e2e: MINUTES,
  faults: MINUTES,
  scale: MINUTES,
};

/** The folder a spec file belongs to, as FOLDER_TIMEOUTS and the runtime summary name it. */
export function testFolderOf(file: string | undefined): string {
  const parts = (file ?? '').split(/[\\/]/);
  const dist = parts.lastIndexOf('dist');
  const top = parts[dist + 1];
  return top === 'test' ? (parts[dist + 2] ?? 'test') : (top ?? 'unknown');
}

/** A folder missing from FOLDER_TIMEOUTS is a mistake to fix there, not a test to let run for ever. */
export function timeoutFor(file: string | undefined): number {
  const folder = testFolderOf(file);
  const timeout = FOLDER_TIMEOUTS[folder];
  if (timeout === undefined)
    throw new Error(
      `test folder ${folder} has no timeout: add it to FOLDER_TIMEOUTS in test/support/test-policy.ts`,
    );
  return timeout;
}

export const inCi = (): boolean => process.env.CI === 'true';

export function isAllowedPending(fullTitle: string): AllowedPending | undefined {
  return ALLOWED_PENDING.find((allowed) => fullTitle.startsWith(allowed.title));
}
