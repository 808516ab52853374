import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The arguments tfjs-core passes a kernel function: its inputs, its backend and its attributes. */
export interface TypedKernelArgs<Backend, Inputs, Attrs> {
  inputs: Inputs;
  backend: Backend;
  attrs: Attrs;
}

/**
 * A kernel's config from a function typed with the kernel's tfjs-core `…Inputs` and `…Attrs` and
 * its backend's class: tfjs-core passes every kernel untyped maps, so the one cast is made here.
 */
export function typedKernelConfig<Backend, Inputs, Attrs>(
  kernelName: string,
  backendName: string,
  kernelFunc: (args: TypedKernelArgs<Backend, Inputs, Attrs>) => TensorInfo | TensorInfo[],
): KernelConfig {
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
