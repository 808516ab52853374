import * as fs from 'node:fs';
import {
  BackendUnavailableError,
  GpuAdapterInfo,
  registerWebgpuBackend,
  SWIFTSHADER_ICD,
} from '@resnet/engine';

/**
 * Registers the webgpu backend for a test, on SwiftShader where the machine has no GPU (Debian's
 * chromium package ships it). Resolves to null, with the reason given to `skip`, where no adapter
 * exists at all; in CI (CI=true) that is a failure instead, since these tests must run there.
 */
export async function webgpuForTests(skip: (reason: string) => void): Promise<GpuAdapterInfo | null> {
  if (!process.env.VK_DRIVER_FILES && !process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_DRIVER_FILES = SWIFTSHADER_ICD;
  }
  try {
    return await registerWebgpuBackend({ allowFallbackAdapter: true });
  } catch (err) {
    if (!(err instanceof BackendUnavailableError) || process.env.CI === 'true') throw err;
    skip(`no WebGPU adapter: ${err.message}`);
    return null;
  }
}
