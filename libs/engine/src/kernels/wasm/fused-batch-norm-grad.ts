/**
 * ResnetFusedBatchNormGrad (libs/model/src/ops/fused-batch-norm.ts) for the wasm backend: the
 * ReLU mask, the two channel reductions and the input gradient in two SIMD passes.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_BATCH_NORM_GRAD,
  FusedBatchNormGradAttrs,
  FusedBatchNormGradInputs,
  fusedBatchNormOutputShapes,
} from '@resnet/model';

import { typedKernelConfig } from '../typed-kernel';
import { FusedBatchNormLoops } from './fused-batch-norm-loops';
import { float32Heap, WASM, WasmKernelArgs } from './wasm-kernel-utils';

function fusedBatchNormGrad({
  inputs,
  backend: wasm,
  attrs,
}: WasmKernelArgs<FusedBatchNormGradInputs, FusedBatchNormGradAttrs>): TensorInfo[] {
  const { dy, x, scale, mean, variance, y } = inputs;
  const { epsilon, relu, residual } = attrs;
  // Outputs first: making one may grow the backend's heap, which detaches earlier views of it.
  const outputs = fusedBatchNormOutputShapes(x.shape, residual).map((shape) =>
    wasm.makeOutput(shape, 'float32'),
  );
  const heap = (info: TensorInfo): Float32Array => float32Heap(wasm, FUSED_BATCH_NORM_GRAD, info);
  FusedBatchNormLoops.get().backward(
    { dy: heap(dy), x: heap(x), scale: heap(scale), mean: heap(mean), variance: heap(variance), y: heap(y) },
    epsilon,
    relu,
    {
      dx: heap(outputs[0]),
      dScale: heap(outputs[1]),
      dOffset: heap(outputs[2]),
      dResidual: residual ? heap(outputs[3]) : null,
    },
  );
  return outputs;
}

export const wasmFusedBatchNormGradConfig = typedKernelConfig(
  FUSED_BATCH_NORM_GRAD,
  WASM,
  fusedBatchNormGrad,
);
