/**
 * Shared plumbing for the wasm training kernels. Conv2DBackpropInput and
 * Conv2DBackpropFilter are expressed as a handful of calls to the wasm
 * backend's own registered kernels (Conv2D runs through XNNPACK), so this file
 * only has to (a) call those kernels and (b) free every intermediate buffer;
 * the fused batch-norm kernels read and write the backend's heap directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  DataId,
  KernelBackend,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TypedKernelArgs } from '../typed-kernel';

export const WASM = 'wasm';

/** The arguments tfjs-core passes a kernel function on this backend. */
export type WasmKernelArgs<Inputs, Attrs> = TypedKernelArgs<BackendWasm, Inputs, Attrs>;

export type PadPair = [number, number];

/**
 * Runs wasm kernels and remembers every TensorInfo they return, so one
 * `dispose()` in a `finally` frees all intermediates even when a step throws.
 * Wasm Reshape shares the input's dataId and bumps its refCount, so disposing
 * each returned TensorInfo once is exactly right for those too.
 */
export class WasmKernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(private readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(kernelName, WASM);
    if (config === undefined) {
      throw new Error(
        `wasm training kernels need the wasm '${kernelName}' kernel; ` +
          `import '@tensorflow/tfjs-backend-wasm' before using them.`,
      );
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      for (const info of out) this.temps.push(info);
      throw new Error(`wasm '${kernelName}' unexpectedly returned ${out.length} tensors.`);
    }
    this.temps.push(out);
    return out;
  }

  /** Hands `info` to the caller: it will not be freed by `dispose()`. */
  keep(info: TensorInfo): TensorInfo {
    const i = this.temps.indexOf(info);
    if (i >= 0) this.temps.splice(i, 1);
    return info;
  }

  dispose(): void {
    for (const info of this.temps) this.backend.disposeData(info.dataId as DataId);
    this.temps.length = 0;
  }
}

/** Runs `body` with a scope, returns its (kept) result, frees everything else. */
export function withWasmScope(backend: unknown, body: (scope: WasmKernelScope) => TensorInfo): TensorInfo {
  const scope = new WasmKernelScope(backend as KernelBackend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

export function assertShape(what: string, actual: number[], expected: number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: expected shape [${expected}], got [${actual}].`);
  }
}

/**
 * Stride-1 NHWC conv on the wasm backend with explicit (non-negative) padding
 * and optional dilation; XNNPACK does the work.
 */
export function wasmConv2d(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  padH: PadPair,
  padW: PadPair,
  dilations: [number, number] = [1, 1],
): TensorInfo {
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], padH, padW, [0, 0]];
  // dimRoundingMode is irrelevant for explicit padding; pass it so the attrs
  // object has the same keys as a real Conv2D call.
  return scope.run('Conv2D', { x, filter }, {
    strides: [1, 1],
    pad,
    dataFormat: 'NHWC',
    dilations,
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
}

/**
 * A float32 tensor's values in place on the wasm backend's heap. The view is detached when the
 * heap grows, so take it after every output of the kernel is made.
 */
export function float32Heap(backend: BackendWasm, kernelName: string, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new TypeError(`${kernelName} takes float32 tensors, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}
