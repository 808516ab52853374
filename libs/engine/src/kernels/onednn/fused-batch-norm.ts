/**
 * ResnetFusedBatchNorm (libs/model/src/ops/fused-batch-norm.ts) as one native kernel: batch
 * statistics, normalisation, residual add and ReLU in two passes over the activations.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_BATCH_NORM, FusedBatchNormAttrs, FusedBatchNormInputs } from '@resnet/model';

import { OnednnAddon } from './native-addon';
import { ONEDNN, OnednnBackend } from './onednn-backend';
import { assertFloat32 } from './native-kernel';

export function fusedBatchNormConfig(addon: OnednnAddon): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, scale, offset, residual } = inputs as unknown as FusedBatchNormInputs;
    const { epsilon, relu } = attrs as unknown as FusedBatchNormAttrs;
    const onednn = backend as OnednnBackend;
    assertFloat32(FUSED_BATCH_NORM, x, scale, offset, ...(residual ? [residual] : []));
    const channels = x.shape[x.shape.length - 1];
    const y = onednn.outputBuffer(onednn.float32Values(x).length);
    const mean = onednn.outputBuffer(channels);
    const variance = onednn.outputBuffer(channels);
    addon.fusedBatchNorm(
      onednn.float32Values(x),
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
    const outputs: TensorInfo[] = [
      onednn.makeTensorInfo([...x.shape], 'float32', y),
      onednn.makeTensorInfo([channels], 'float32', mean),
      onednn.makeTensorInfo([channels], 'float32', variance),
    ];
    return outputs;
  };
  return { kernelName: FUSED_BATCH_NORM, backendName: ONEDNN, kernelFunc };
}
