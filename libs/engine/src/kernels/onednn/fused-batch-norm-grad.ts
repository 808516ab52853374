/**
 * ResnetFusedBatchNormGrad (libs/model/src/ops/fused-batch-norm.ts) as one native kernel: the
 * ReLU mask, the two channel reductions and the input gradient in two passes.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_BATCH_NORM_GRAD,
  FusedBatchNormGradAttrs,
  FusedBatchNormGradInputs,
  fusedBatchNormOutputShapes,
} from '@resnet/model';

import { TypedKernelArgs, typedKernelConfig } from '../typed-kernel';
import { OnednnAddon } from './native-addon';
import { ONEDNN, OnednnBackend } from './onednn-backend';
import { assertFloat32 } from './native-kernel';

export function fusedBatchNormGradConfig(addon: OnednnAddon): KernelConfig {
  const kernelFunc = ({
    inputs,
    backend: onednn,
    attrs,
  }: TypedKernelArgs<OnednnBackend, FusedBatchNormGradInputs, FusedBatchNormGradAttrs>): TensorInfo[] => {
    const { dy, x, scale, mean, variance, y } = inputs;
    const { epsilon, relu, residual } = attrs;
    assertFloat32(FUSED_BATCH_NORM_GRAD, dy, x, scale, mean, variance, y);
    const channels = x.shape[x.shape.length - 1];
    const shapes = fusedBatchNormOutputShapes(x.shape, residual);
    // dx is stored like x: bf16 when x is a bf16 convolution's output, whose gradient it is.
    const [dxShape, ...otherShapes] = shapes;
    const dx = onednn.isBf16(x)
      ? onednn.bf16OutputBuffer(util.sizeFromShape(dxShape))
      : onednn.outputBuffer(util.sizeFromShape(dxShape));
    const others = otherShapes.map((shape) => onednn.outputBuffer(util.sizeFromShape(shape)));
    const [dScale, dOffset, dResidual = null] = others;
    addon.fusedBatchNormGrad(
      onednn.float32Values(dy),
      onednn.activationValues(x),
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
    return [
      dx instanceof Uint16Array
        ? onednn.makeBf16TensorInfo(dxShape, dx)
        : onednn.makeTensorInfo(dxShape, 'float32', dx),
      ...otherShapes.map((shape, i) => onednn.makeTensorInfo(shape, 'float32', others[i])),
    ];
  };
  return typedKernelConfig(FUSED_BATCH_NORM_GRAD, ONEDNN, kernelFunc);
}
