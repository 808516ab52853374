// Placeholder of the fused batch-norm contract (kernel names and types); the full op lands with the CPU engine work.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export const FUSED_BATCH_NORM = 'ResnetFusedBatchNorm';
export const FUSED_BATCH_NORM_GRAD = 'ResnetFusedBatchNormGrad';

export interface FusedBatchNormInputs {
  x: TensorInfo;
  scale: TensorInfo;
  offset: TensorInfo;
  residual?: TensorInfo;
}
export interface FusedBatchNormAttrs {
  epsilon: number;
  relu: boolean;
}
export interface FusedBatchNormGradInputs {
  dy: TensorInfo;
  x: TensorInfo;
  scale: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  y: TensorInfo;
}
export interface FusedBatchNormGradAttrs {
  epsilon: number;
  relu: boolean;
  residual: boolean;
}
