/// <reference types="@webgpu/types" />
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';

/** What a worker reports about the GPU it computes on (`GET /workers`, the dashboard). */
export interface GpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software adapter (e.g. SwiftShader, which emulates a GPU on the CPU), not a GPU. */
  readonly isFallbackAdapter: boolean;
}

export interface WebgpuAdapterOptions {
  /**
   * Accept a software (fallback) adapter such as SwiftShader. It computes on the CPU, far slower
   * than the CPU backends, and is meant for tests and for checking kernels without a GPU.
   * @defaultValue false
   */
  readonly allowFallbackAdapter?: boolean;
  /**
   * Turn off Dawn's rounding of timestamp queries to about 100 µs (a guard against timing attacks in
   * browsers), so that profiles time each kernel. Decided by the process's first adapter request,
   * which creates Dawn's instance.
   * @defaultValue false
   */
  readonly exactTimestamps?: boolean;
}

/** Dawn's toggles that turn timestamp quantization off (it counts as an unsafe API). */
const EXACT_TIMESTAMP_TOGGLES = [
  'enable-dawn-features=allow_unsafe_apis',
  'disable-dawn-features=timestamp_quantization',
];

export interface WebgpuAdapter {
  readonly adapter: GPUAdapter;
  readonly info: GpuAdapterInfo;
}

/** Where Debian's chromium package puts SwiftShader's Vulkan driver: the fallback named in errors. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

type DawnModule = typeof import('webgpu');

let dawn: Promise<DawnModule | Error> | null = null;

/**
 * Loads Dawn's Node binding once and installs the WebGPU globals the tfjs backend expects. Dawn's
 * Vulkan backend wants XDG_RUNTIME_DIR (and complains on every start without it), so a private one is
 * made when the environment has none.
 */
function loadDawn(): Promise<DawnModule | Error> {
  if (!process.env.XDG_RUNTIME_DIR) {
    process.env.XDG_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-webgpu-'));
  }
  dawn ??= import('webgpu').then(
    (module) => {
      Object.assign(globalThis, module.globals);
      return module;
    },
    (err: Error) => err,
  );
  return dawn;
}

let gpu: GPU | null = null;

/**
 * Whether this machine shows a GPU at all: an NVIDIA device node, or a DRM render node (AMD, Intel).
 * Lets `--backend auto` skip loading Dawn and probing Vulkan on CPU-only machines, where the probe
 * costs a fifth of a second and Dawn complains on stderr about the software drivers it rejects.
 */
export function gpuDeviceNodePresent(): boolean {
  const nodes = (dir: string, prefix: string): boolean => {
    try {
      return fs.readdirSync(dir).some((name) => name.startsWith(prefix));
    } catch {
      return false; // no such folder: no such device
    }
  };
  return nodes('/dev', 'nvidia') || nodes('/dev/dri', 'renderD');
}

/**
 * The adapter Dawn offers for high-performance compute, or a BackendUnavailableError naming what is
 * missing: the `webgpu` package, a Vulkan loader and driver, or (for a fallback adapter) the opt-in.
 * Defines `navigator.gpu` (read-only `navigator` on Node 21+, hence defineProperty) before the tfjs
 * backend module is imported, since it checks for it at import time.
 */
export async function requestWebgpuAdapter(options: WebgpuAdapterOptions = {}): Promise<WebgpuAdapter> {
  const module = await loadDawn();
  if (module instanceof Error) {
    throw new BackendUnavailableError(
      `backend "webgpu" needs the npm package "webgpu" (Dawn's Node binding), which did not load: ${module.message}`,
    );
  }
  gpu ??= module.create(options.exactTimestamps ? EXACT_TIMESTAMP_TOGGLES : []);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new BackendUnavailableError(
      'backend "webgpu" found no GPU adapter: it needs the Vulkan loader (Debian: apt-get install libvulkan1) and a GPU ' +
        'driver with Vulkan (NVIDIA: the driver with NVIDIA_DRIVER_CAPABILITIES including "graphics" in containers). ' +
        `Without a GPU, SwiftShader can stand in for tests: VK_DRIVER_FILES=${SWIFTSHADER_ICD} with --allow-fallback-adapter`,
    );
  }
  const info = describeAdapter(adapter);
  if (info.isFallbackAdapter && !options.allowFallbackAdapter) {
    throw new BackendUnavailableError(
      `backend "webgpu" found only a software adapter (${info.description}), which emulates a GPU on the CPU and is ` +
        'slower than the CPU backends; start the worker with --allow-fallback-adapter to use it anyway (tests), ' +
        'or give it a GPU driver with Vulkan',
    );
  }
  return { adapter, info };
}

function describeAdapter(adapter: GPUAdapter): GpuAdapterInfo {
  const info = adapter.info;
  // Dawn (webgpu 0.6) reports it on the info, as the current spec does; @webgpu/types 0.1.38 lacks it.
  const { isFallbackAdapter } = info as GPUAdapterInfo & { isFallbackAdapter: boolean };
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((part) => part);
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: [...new Set(parts)].join(' ') || 'unnamed adapter',
    isFallbackAdapter,
  };
}
