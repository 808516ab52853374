import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PRECISION, Precision } from '@resnet/protocol';
import { BackendUnavailableError } from './errors/backend-unavailable.error';
import { OnednnBackend } from './kernels/onednn/onednn-backend';
import { onednnAvailable, registerOnednnBackend } from './kernels/onednn/register-onednn-backend';
import { registerWasmTrainingKernels } from './kernels/wasm/register-training-kernels';
import { GpuAdapterInfo, gpuDeviceNodePresent } from './kernels/webgpu/webgpu-adapter';
import { registerWebgpuBackend } from './kernels/webgpu/register-webgpu-backend';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'onednn', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type DeviceChoice = 'cpu' | 'gpu';

export interface ComputeBackend {
  /** TensorFlow.js backend name as registered: tensorflow, onednn, wasm or cpu. */
  readonly backend: string;
  /** What the backend runs on, e.g. the CPU model or the GPU's name. */
  readonly device: string;
  readonly deviceKind: DeviceChoice;
  /** The WebGPU adapter, on the webgpu backend. */
  readonly adapter?: GpuAdapterInfo;
  /** The precisions it computes jobs in: fp32 always, bf16 on onednn where the CPU has native bf16. */
  readonly precisions: readonly Precision[];
  /** Why bf16 is not among them; null when it is. */
  readonly bf16Unavailable: string | null;
}

export interface ComputeOptions {
  /**
   * Threads for the onednn backend's native kernels.
   * @defaultValue 1 (one worker process per core)
   */
  readonly threads?: number;
  /**
   * Let the webgpu backend run on a software adapter (SwiftShader): for tests without a GPU.
   * @defaultValue false
   */
  readonly allowFallbackAdapter?: boolean;
  /**
   * A diagnostic for tests: report no native bf16 even where the CPU has it, as a CPU without
   * AVX512_BF16 or AMX would, so that bf16 jobs are routed around this worker.
   * @defaultValue false
   */
  readonly hideBf16?: boolean;
}

/** The libtensorflow bindings, GPU build first; absent on hosts where they could not install. */
const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function cpuModel(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores)`;
}

function loadTensorflowBinding(): string | null {
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      require.resolve(pkg);
    } catch {
      continue; // not installed: try the next route
    }
    // A runtime require: the package is optional and absent where it could not install.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg); // installed but broken (e.g. libtensorflow missing) is an error worth seeing
    return pkg;
  }
  return null;
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name)))
    throw new BackendUnavailableError(`TensorFlow.js backend "${name}" failed to initialise`);
  await tf.ready();
}

/** The webgpu backend on a hardware adapter, or null (with auto) where there is none. */
async function tryWebgpu(choice: BackendChoice, options: ComputeOptions): Promise<GpuAdapterInfo | null> {
  if (choice === 'webgpu')
    return registerWebgpuBackend({ allowFallbackAdapter: options.allowFallbackAdapter });
  if (choice !== 'auto' || !gpuDeviceNodePresent()) return null;
  try {
    return await registerWebgpuBackend({ allowFallbackAdapter: false });
  } catch (err) {
    if (err instanceof BackendUnavailableError) return null; // no GPU here: the CPU backends follow
    throw err;
  }
}

/**
 * Selects and initialises the TensorFlow.js backend: libtensorflow on CUDA when tfjs-node-gpu is
 * installed, else `webgpu` on a hardware GPU adapter, else libtensorflow on the CPU (tfjs-node), else
 * oneDNN (`onednn`) when its addon is built, else WebAssembly with this project's training kernels,
 * the pure JavaScript `cpu` backend last. A GPU request that would silently run on the CPU is refused.
 */
export async function initComputeBackend(
  choice: BackendChoice,
  device: DeviceChoice = 'cpu',
  options: ComputeOptions = {},
): Promise<ComputeBackend> {
  let backend: string;
  let deviceName = cpuModel();
  let deviceKind: DeviceChoice = 'cpu';
  let adapter: GpuAdapterInfo | undefined;
  let bf16Unavailable: string | null =
    `backend "${choice}" computes in float32 only; bf16 needs the onednn backend`;
  const binding = choice === 'auto' || choice === 'tensorflow' ? loadTensorflowBinding() : null;
  const webgpu = binding === '@tensorflow/tfjs-node-gpu' ? null : await tryWebgpu(choice, options);
  if (webgpu) {
    await activate('webgpu');
    backend = 'webgpu';
    adapter = webgpu;
    deviceKind = webgpu.isFallbackAdapter ? 'cpu' : 'gpu';
    deviceName = webgpu.isFallbackAdapter
      ? `${webgpu.description} (software WebGPU adapter: CPU emulation)`
      : webgpu.description;
  } else if (binding) {
    await activate('tensorflow');
    backend = 'tensorflow';
    if (binding === '@tensorflow/tfjs-node-gpu') {
      deviceKind = 'gpu';
      deviceName = 'CUDA GPU via libtensorflow';
    }
  } else if (choice === 'tensorflow') {
    throw new BackendUnavailableError(
      'backend "tensorflow" needs @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1); ' +
        'install one with npm, or choose --backend wasm',
    );
  } else if (choice === 'onednn' || (choice === 'auto' && onednnAvailable())) {
    const onednn = registerOnednnBackend(options.threads ?? 1); // throws, naming the fix, when the addon is absent
    await activate('onednn');
    backend = 'onednn';
    deviceName = `${os.cpus()[0]?.model ?? 'unknown CPU'} (${onednn.isa})`;
    if (options.hideBf16) bf16Unavailable = 'native bf16 hidden by the diagnostic override (hideBf16)';
    else if (!onednn.bf16)
      bf16Unavailable = `this CPU (${onednn.isa}) has no native bf16 (AVX512_BF16 or AMX) for oneDNN's convolutions`;
    else bf16Unavailable = null;
  } else if (choice === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await activate('cpu');
    backend = 'cpu';
  } else {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    await activate('wasm');
    backend = 'wasm';
  }
  if (device === 'gpu' && deviceKind !== 'gpu') {
    throw new BackendUnavailableError(
      `--device gpu was asked for, but backend "${backend}" runs on the CPU (${deviceName}): give the worker a GPU ` +
        'with a Vulkan driver and the Vulkan loader (libvulkan1) for --backend webgpu, or install @tensorflow/tfjs-node-gpu ' +
        'with its CUDA 11.2 and cuDNN 8.1 libraries; or start the worker with --device cpu',
    );
  }
  const precisions: Precision[] = bf16Unavailable === null ? ['fp32', 'bf16'] : ['fp32'];
  return { backend, device: deviceName, deviceKind, adapter, precisions, bf16Unavailable };
}

/**
 * Sets what the active backend's convolutions and matrix products compute in, returning what they
 * computed in before. Only the onednn backend has a bf16 path; asking another for it is an error.
 */
export function setComputePrecision(precision: Precision): Precision {
  const backend = tf.backend();
  if (backend instanceof OnednnBackend) {
    const previous = backend.precision;
    backend.precision = precision;
    return previous;
  }
  if (precision !== DEFAULT_PRECISION) {
    throw new BackendUnavailableError(
      `precision ${precision} needs the onednn backend; the active backend is ${tf.getBackend()}`,
    );
  }
  return DEFAULT_PRECISION;
}
