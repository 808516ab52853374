import { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_BATCH_NORM_GRAD, FusedBatchNormGradAttrs, FusedBatchNormGradInputs } from '@resnet/model';
import {
  ChannelSumsProgram,
  ChannelTotalProgram,
  ChannelwiseProgram,
  channelRows,
} from './batch-norm-programs';
import { WEBGPU, WebgpuKernelArgs, runProgram, scalarUniforms } from './webgpu-program';

/**
 * Backward pass of the fused batch norm in the two-reduction form: one pass for Σg and Σg·(x−mean)
 * per channel (g is dy through the ReLU mask), two tiny folds, one pass for dx, and with a residual
 * input one more pass for its gradient g.
 */
function fusedBatchNormGrad({
  inputs,
  backend,
  attrs,
}: WebgpuKernelArgs<FusedBatchNormGradInputs, FusedBatchNormGradAttrs>): TensorInfo[] {
  const { dy, x, scale, mean, variance, y } = inputs;
  const geometry = channelRows(x.shape);
  const sums = new ChannelSumsProgram(attrs.relu ? 'gradientRelu' : 'gradient', geometry);
  const partials = runProgram(
    backend,
    sums,
    attrs.relu ? [dy, x, mean, y] : [dy, x, mean],
    sums.programUniforms(),
  );
  const totalUniforms = [
    ...scalarUniforms('int32', geometry.rows, geometry.channels, sums.blocks),
    ...scalarUniforms('float32', attrs.epsilon),
  ];
  const dOffset = runProgram(
    backend,
    new ChannelTotalProgram('offsetGradient', geometry.channels),
    [partials],
    totalUniforms,
  );
  const dScale = runProgram(
    backend,
    new ChannelTotalProgram('scaleGradient', geometry.channels),
    [partials, variance],
    totalUniforms,
    [partials],
  );
  const elementUniforms = [
    ...scalarUniforms('int32', geometry.channels),
    ...scalarUniforms('float32', attrs.epsilon, geometry.rows),
  ];
  const dx = runProgram(
    backend,
    new ChannelwiseProgram(attrs.relu ? 'inputGradientRelu' : 'inputGradient', x.shape),
    attrs.relu
      ? [dy, x, mean, variance, scale, dOffset, dScale, y]
      : [dy, x, mean, variance, scale, dOffset, dScale],
    elementUniforms,
  );
  if (!attrs.residual) return [dx, dScale, dOffset];
  // Without a ReLU the residual's gradient is dy itself: hand it back as another reference.
  const dResidual = attrs.relu
    ? runProgram(backend, new ChannelwiseProgram('reluMask', x.shape), [dy, y], elementUniforms)
    : passThrough(backend, dy);
  return [dx, dScale, dOffset, dResidual];
}

function passThrough(backend: WebgpuKernelArgs<unknown, unknown>['backend'], t: TensorInfo): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

export const fusedBatchNormGradConfig: KernelConfig = {
  kernelName: FUSED_BATCH_NORM_GRAD,
  backendName: WEBGPU,
  kernelFunc: fusedBatchNormGrad as unknown as KernelConfig['kernelFunc'],
};
