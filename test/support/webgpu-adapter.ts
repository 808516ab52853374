import * as fs from 'node:fs';
import {
  BackendUnavailableError,
  GpuAdapterInfo,
  registerWebgpuBackend,
  SWIFTSHADER_ICD,
} from '@resnet/engine';
import { pending } from './optional-dependency';

/**
 * Registers the webgpu backend for a test, on SwiftShader where the machine has no GPU (Debian's
 * chromium package ships it). Where no adapter exists at all the test is pending, or in CI fails
 * (see pending in optional-dependency.ts).
 */
export async function webgpuForTests(ctx: Mocha.Context): Promise<GpuAdapterInfo> {
  if (!process.env.VK_DRIVER_FILES && !process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_DRIVER_FILES = SWIFTSHADER_ICD;
  }
  try {
    return await registerWebgpuBackend({ allowFallbackAdapter: true });
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    pending(ctx, `no WebGPU adapter: ${err.message}`);
  }
}
