/**
 * ResnetFusedBatchNorm (libs/model/src/ops/fused-batch-norm.ts) as one native kernel: batch
 * statistics, normalisation, residual add and ReLU in two passes over the activations.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_BATCH_NORM,
  FusedBatchNormAttrs,
  FusedBatchNormInputs,
  fusedBatchNormOutputShapes,
} from '@resnet/model';

import { TypedKernelArgs, typedKernelConfig } from '../typed-kernel';
import { OnednnAddon } from './native-addon';
import { ONEDNN, OnednnBackend } from './onednn-backend';
import { assertFloat32 } from './native-kernel';

export function fusedBatchNormConfig(addon: OnednnAddon): KernelConfig {
  const kernelFunc = ({
    inputs,
    backend: onednn,
    attrs,
  }: TypedKernelArgs<OnednnBackend, FusedBatchNormInputs, FusedBatchNormAttrs>): TensorInfo[] => {
    const { x, scale, offset, residual } = inputs;
    const { epsilon, relu } = attrs;
    assertFloat32(FUSED_BATCH_NORM, x, scale, offset, ...(residual ? [residual] : []));
    const channels = x.shape[x.shape.length - 1];
    const shapes = fusedBatchNormOutputShapes(x.shape);
    const buffers = shapes.map((shape) => onednn.outputBuffer(util.sizeFromShape(shape)));
    const [y, mean, variance] = buffers;
    addon.fusedBatchNorm(
      onednn.activationValues(x),
      onednn.float32Values(scale),
      onednn.float32Values(offset),
      residual ? onednn.float32Values(residual) : null,
      y,
      mean,
      variance,
      channels,
      epsilon,
      relu,
    );
    return shapes.map((shape, i) => onednn.makeTensorInfo(shape, 'float32', buffers[i]));
  };
  return typedKernelConfig(FUSED_BATCH_NORM, ONEDNN, kernelFunc);
}
