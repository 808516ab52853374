/**
 * How a native kernel plugs into the `onednn` backend: it handles the cases it supports (float32,
 * the layouts and shapes its loops or oneDNN primitives cover) and returns null for the rest, which
 * the cpu backend's own kernel then computes, so the backend is always as complete as `cpu`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import { widenBf16Inputs } from './bf16-inputs';
import { ONEDNN, OnednnBackend } from './onednn-backend';

export type NativeKernel<A = NamedAttrMap> = (
  inputs: NamedTensorInfoMap,
  backend: OnednnBackend,
  attrs: A,
) => TensorInfo | null;

function cpuKernel(kernelName: string): KernelFunc {
  const config = tf.getKernel(kernelName, 'cpu');
  if (!config) {
    throw new Error(
      `the onednn backend needs the cpu backend's ${kernelName} kernel; import '@tensorflow/tfjs-backend-cpu' first`,
    );
  }
  return config.kernelFunc;
}

export function nativeKernelConfig<A>(kernelName: string, native: NativeKernel<A>): KernelConfig {
  const fallback = widenBf16Inputs(cpuKernel(kernelName));
  return {
    kernelName,
    backendName: ONEDNN,
    kernelFunc: (args) =>
      native(args.inputs, args.backend as OnednnBackend, (args.attrs ?? {}) as unknown as A) ??
      fallback(args),
  };
}

export function isFloat32(...infos: TensorInfo[]): boolean {
  return infos.every((info) => info.dtype === 'float32');
}

/** For kernels that have no cpu fallback: anything but float32 is a caller's error. */
export function assertFloat32(kernelName: string, ...infos: TensorInfo[]): void {
  if (!isFloat32(...infos)) {
    throw new TypeError(`${kernelName} takes float32 tensors, got ${infos.map((i) => i.dtype).join(', ')}`);
  }
}
