import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadOnednnAddon } from '../../libs/engine/src/kernels/onednn/native-addon';
import { inCi, isAllowedPending } from './test-policy';

/** Something some tests need that a machine may lack: `missing()` is null when present, else why and how to get it. */
export interface OptionalDependency {
  readonly name: string;
  missing(): string | null;
}

/** Why each pending test (or suite) is pending, by full title, for the reporter's list. */
export const pendingReasons = new Map<string, string>();

/** A dependency missing in CI, where every dependency is installed (.ci/run). */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';
}

/**
 * Marks the test pending (from a `before` hook: the suite) with the reason, outside CI; in CI throws
 * instead, unless the test is on ALLOWED_PENDING (test-policy.ts).
 */
export function pending(ctx: Mocha.Context, reason: string): never {
  // From a hook, the title of what it skips: the suite (before all) or the test (before each).
  const hook = (ctx.test as { type?: string } | undefined)?.type === 'hook' ? ctx.test : undefined;
  const title = hook?.title.startsWith('"before all"')
    ? hook.parent!.fullTitle()
    : (ctx.currentTest ?? ctx.test)!.fullTitle();
  if (inCi() && !isAllowedPending(title))
    throw new MissingDependencyError(
      `${reason} (CI=true: every test must run; see test/support/test-policy.ts)`,
    );
  pendingReasons.set(title, reason);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** Skips or fails (see pending) where `dependency` is missing. */
export function requireDependency(ctx: Mocha.Context, dependency: OptionalDependency): void {
  const missing = dependency.missing();
  if (missing !== null) pending(ctx, `${dependency.name} is missing: ${missing}`);
}

export const ONEDNN_ADDON: OptionalDependency = {
  name: 'the oneDNN addon',
  missing: () => {
    const load = loadOnednnAddon();
    return load.addon ? null : load.reason;
  },
};

/** The addon with oneDNN's native bf16 convolutions (AVX512_BF16 or AMX), which bf16 jobs need. */
export const NATIVE_BF16: OptionalDependency = {
  name: "oneDNN's native bf16",
  missing: () => {
    const load = loadOnednnAddon();
    if (!load.addon) return load.reason;
    return load.addon.info().bf16 ? null : 'this CPU has no native bf16 (AVX512_BF16 or AMX) for oneDNN';
  },
};

const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM: OptionalDependency & { readonly path: string } = {
  name: 'Chromium',
  path: CHROMIUM_PATH,
  missing: () =>
    fs.existsSync(CHROMIUM_PATH)
      ? null
      : `${CHROMIUM_PATH} not found; install it with: apt-get update && apt-get install -y chromium`,
};

export const TFJS_NODE: OptionalDependency = {
  name: '@tensorflow/tfjs-node',
  missing: () =>
    ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some(resolves)
      ? null
      : 'not installed (npm install @tensorflow/tfjs-node to run it)',
};

/** The real CIFAR-10 (class folders of JPEGs) in ../shared beside the checkout; never copied into the repo. */
const SHARED_DATA = process.env.SHARED_DATA_DIR ?? path.resolve(__dirname, '../../../../shared/data');
export const SHARED_CIFAR: OptionalDependency & { readonly root: string; readonly archive: string } = {
  name: 'the shared CIFAR-10 archive',
  root: SHARED_DATA,
  archive: 'cifar10-images.tar.gz',
  missing: () =>
    fs.existsSync(path.join(SHARED_DATA, 'cifar10-images.tar.gz'))
      ? null
      : `${path.join(SHARED_DATA, 'cifar10-images.tar.gz')} is not on this machine (set SHARED_DATA_DIR)`,
};

function resolves(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
