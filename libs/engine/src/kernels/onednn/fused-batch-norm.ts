/**
 * ResnetFusedBatchNorm (libs/model/src/ops/fused-batch-norm.ts) as one native kernel: batch
 * statistics, normalisation, residual add and ReLU in two passes over the activations, which are
 * float32, or bf16 in a bf16 job (computed in float32 either way).
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
import { storedAlike } from './bf16-inputs';
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
    // x, residual and y are stored alike: bf16 in a bf16 job, where they are the convolutions' bf16 outputs.
    return storedAlike(onednn, residual ? [x, residual] : [x], ([xs, rs]) => {
      const bf16 = onednn.isBf16(xs);
      const y = bf16
        ? onednn.bf16OutputBuffer(util.sizeFromShape(shapes[0]))
        : onednn.outputBuffer(util.sizeFromShape(shapes[0]));
      const [mean, variance] = shapes.slice(1).map((shape) => onednn.outputBuffer(util.sizeFromShape(shape)));
      addon.fusedBatchNorm(
        onednn.activationValues(xs),
        onednn.float32Values(scale),
        onednn.float32Values(offset),
        rs ? onednn.activationValues(rs) : null,
        y,
        mean,
        variance,
        channels,
        epsilon,
        relu,
      );
      return [
        y instanceof Uint16Array
          ? onednn.makeBf16TensorInfo(shapes[0], y)
          : onednn.makeTensorInfo(shapes[0], 'float32', y),
        onednn.makeTensorInfo(shapes[1], 'float32', mean),
        onednn.makeTensorInfo(shapes[2], 'float32', variance),
      ];
    });
  };
  return typedKernelConfig(FUSED_BATCH_NORM, ONEDNN, kernelFunc);
}
