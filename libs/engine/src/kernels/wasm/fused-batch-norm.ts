/**
 * ResnetFusedBatchNorm (libs/model/src/ops/fused-batch-norm.ts) for the wasm backend: batch
 * statistics, normalisation, residual add and ReLU in two SIMD passes over the activations.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_BATCH_NORM,
  FusedBatchNormAttrs,
  FusedBatchNormInputs,
  fusedBatchNormOutputShapes,
} from '@resnet/model';

import { typedKernelConfig } from '../typed-kernel';
import { FusedBatchNormLoops } from './fused-batch-norm-loops';
import { float32Heap, WASM, WasmKernelArgs } from './wasm-kernel-utils';

function fusedBatchNorm({
  inputs,
  backend: wasm,
  attrs,
}: WasmKernelArgs<FusedBatchNormInputs, FusedBatchNormAttrs>): TensorInfo[] {
  const { x, scale, offset, residual } = inputs;
  const { epsilon, relu } = attrs;
  // Outputs first: making one may grow the backend's heap, which detaches earlier views of it.
  const outputs = fusedBatchNormOutputShapes(x.shape).map((shape) => wasm.makeOutput(shape, 'float32'));
  const heap = (info: TensorInfo): Float32Array => float32Heap(wasm, FUSED_BATCH_NORM, info);
  FusedBatchNormLoops.get().forward(
    heap(x),
    heap(scale),
    heap(offset),
    residual ? heap(residual) : null,
    epsilon,
    relu,
    { y: heap(outputs[0]), mean: heap(outputs[1]), variance: heap(outputs[2]) },
  );
  return outputs;
}

export const wasmFusedBatchNormConfig = typedKernelConfig(FUSED_BATCH_NORM, WASM, fusedBatchNorm);
