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
    const inputs: NamedTensorInfoMap | TensorInfo[] = Array.isArray(args.inputs)
      ? [...(args.inputs as TensorInfo[])]
      : { ...args.inputs };
    const copies: TensorInfo[] = [];
    for (const [name, info] of Object.entries(inputs) as Array<[string, TensorInfo | undefined]>) {
      if (!info || bf16Inputs.includes(name) || !backend.isBf16(info)) continue;
      const copy = backend.widenBf16(info);
      copies.push(copy);
      (inputs as Record<string, TensorInfo>)[name] = copy;
    }
    if (copies.length === 0) return kernelFunc(args);
    try {
      return kernelFunc({ ...args, inputs: inputs as NamedTensorInfoMap });
    } finally {
      for (const copy of copies) backend.disposeData(copy.dataId);
    }
  };
}
