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
import { storedAlike } from './bf16-inputs';
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
    // x, y and dx are stored alike: bf16 in a bf16 job, where dx flows back into a bf16 convolution.
    return storedAlike(onednn, [x, y], ([xs, ys]) => {
      const [dxShape, ...otherShapes] = shapes;
      const dx = onednn.isBf16(xs)
        ? onednn.bf16OutputBuffer(util.sizeFromShape(dxShape))
        : onednn.outputBuffer(util.sizeFromShape(dxShape));
      const others = otherShapes.map((shape) => onednn.outputBuffer(util.sizeFromShape(shape)));
      const [dScale, dOffset, dResidual = null] = others;
      addon.fusedBatchNormGrad(
        onednn.float32Values(dy),
        onednn.activationValues(xs),
        onednn.float32Values(scale),
        onednn.float32Values(mean),
        onednn.float32Values(variance),
        onednn.activationValues(ys),
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
    });
  };
  return typedKernelConfig(FUSED_BATCH_NORM_GRAD, ONEDNN, kernelFunc);
}
