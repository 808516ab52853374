import { TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_BATCH_NORM_GRAD, FusedBatchNormGradAttrs, FusedBatchNormGradInputs } from '@resnet/model';
import { typedKernelConfig } from '../typed-kernel';
import {
  ChannelSumsProgram,
  ChannelTotalProgram,
  ChannelwiseProgram,
  channelRows,
} from './batch-norm-programs';
import { WEBGPU, WebgpuKernelArgs, runProgram } from './webgpu-program';

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
  const totalUniforms = sums.totalUniforms(attrs.epsilon);
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
  const inputGradient = new ChannelwiseProgram(attrs.relu ? 'inputGradientRelu' : 'inputGradient', x.shape);
  const dx = runProgram(
    backend,
    inputGradient,
    attrs.relu
      ? [dy, x, mean, variance, scale, dOffset, dScale, y]
      : [dy, x, mean, variance, scale, dOffset, dScale],
    inputGradient.programUniforms(attrs.epsilon),
  );
  if (!attrs.residual) return [dx, dScale, dOffset];
  // Without a ReLU the residual's gradient is dy itself: hand it back as another reference.
  if (!attrs.relu) return [dx, dScale, dOffset, passThrough(backend, dy)];
  const reluMask = new ChannelwiseProgram('reluMask', x.shape);
  return [
    dx,
    dScale,
    dOffset,
    runProgram(backend, reluMask, [dy, y], reluMask.programUniforms(attrs.epsilon)),
  ];
}

function passThrough(backend: WebgpuKernelArgs<unknown, unknown>['backend'], t: TensorInfo): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

export const fusedBatchNormGradConfig = typedKernelConfig(FUSED_BATCH_NORM_GRAD, WEBGPU, fusedBatchNormGrad);
