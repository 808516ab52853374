/**
 * ResnetFusedBatchNormGrad (libs/model/src/ops/fused-batch-norm.ts) as one native kernel: the
 * ReLU mask, the two channel reductions and the input gradient in two passes.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_BATCH_NORM_GRAD, FusedBatchNormGradAttrs, FusedBatchNormGradInputs } from '@resnet/model';

import { OnednnAddon } from './native-addon';
import { ONEDNN, OnednnBackend } from './onednn-backend';
import { assertFloat32 } from './native-kernel';

export function fusedBatchNormGradConfig(addon: OnednnAddon): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, x, scale, mean, variance, y } = inputs as unknown as FusedBatchNormGradInputs;
    const { epsilon, relu, residual } = attrs as unknown as FusedBatchNormGradAttrs;
    const onednn = backend as OnednnBackend;
    assertFloat32(FUSED_BATCH_NORM_GRAD, dy, x, scale, mean, variance, y);
    const channels = x.shape[x.shape.length - 1];
    const elements = onednn.float32Values(x).length;
    const dx = onednn.outputBuffer(elements);
    const dScale = onednn.outputBuffer(channels);
    const dOffset = onednn.outputBuffer(channels);
    const dResidual = residual ? onednn.outputBuffer(elements) : null;
    addon.fusedBatchNormGrad(
      onednn.float32Values(dy),
      onednn.float32Values(x),
      onednn.float32Values(scale),
      onednn.float32Values(mean),
      onednn.float32Values(variance),
      onednn.float32Values(y),
      dx,
      dScale,
      dOffset,
      dResidual,
      channels,
      epsilon,
      relu,
    );
    const outputs: TensorInfo[] = [
      onednn.makeTensorInfo([...x.shape], 'float32', dx),
      onednn.makeTensorInfo([channels], 'float32', dScale),
      onednn.makeTensorInfo([channels], 'float32', dOffset),
    ];
    if (dResidual) outputs.push(onednn.makeTensorInfo([...x.shape], 'float32', dResidual));
    return outputs;
  };
  return { kernelName: FUSED_BATCH_NORM_GRAD, backendName: ONEDNN, kernelFunc };
}
