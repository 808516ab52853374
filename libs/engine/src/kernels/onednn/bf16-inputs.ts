/**
 * Keeps bf16 tensors (see OnednnBackend) away from kernels that read float32: such a kernel gets
 * a float32 copy of each bf16 input, disposed once it has run.
 */
import type { KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { OnednnBackend } from './onednn-backend';

/** `kernelFunc`, given float32 copies of its bf16 inputs except those named in `bf16Inputs`, which it reads itself. */
export function widenBf16Inputs(kernelFunc: KernelFunc, bf16Inputs: readonly string[] = []): KernelFunc {
  return (args) => {
    const backend = args.backend as OnednnBackend;
    // Concat and AddN take an array of inputs.
    const entries = Object.entries(args.inputs) as Array<[string, TensorInfo | undefined]>;
    const widen = entries.filter(
      ([name, info]) => info && !bf16Inputs.includes(name) && backend.isBf16(info),
    );
    if (widen.length === 0) return kernelFunc(args); // the usual case: nothing to copy
    const inputs: Record<string, TensorInfo> = Array.isArray(args.inputs)
      ? ([...(args.inputs as TensorInfo[])] as unknown as Record<string, TensorInfo>)
      : { ...(args.inputs as Record<string, TensorInfo>) };
    const copies = widen.map(([name, info]) => (inputs[name] = backend.widenBf16(info!)));
    try {
      return kernelFunc({ ...args, inputs: inputs as unknown as NamedTensorInfoMap });
    } finally {
      for (const copy of copies) backend.disposeData(copy.dataId);
    }
  };
}

/**
 * Runs `compute` on activations that a kernel needs stored alike (all float32 or all bf16): as
 * they are when they are, else with float32 copies of the bf16 ones, disposed after.
 */
export function storedAlike<T>(
  backend: OnednnBackend,
  activations: readonly TensorInfo[],
  compute: (alike: TensorInfo[]) => T,
): T {
  const bf16 = activations.map((info) => backend.isBf16(info));
  if (bf16.every((b) => b === bf16[0])) return compute([...activations]);
  const copies = activations.map((info, i) => (bf16[i] ? backend.widenBf16(info) : null));
  try {
    return compute(activations.map((info, i) => copies[i] ?? info));
  } finally {
    for (const copy of copies) if (copy) backend.disposeData(copy.dataId);
  }
}
