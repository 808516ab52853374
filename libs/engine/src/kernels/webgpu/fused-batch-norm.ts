import { TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_BATCH_NORM, FusedBatchNormAttrs, FusedBatchNormInputs } from '@resnet/model';
import { typedKernelConfig } from '../typed-kernel';
import {
  ChannelSumsProgram,
  ChannelTotalProgram,
  ChannelwiseProgram,
  channelRows,
} from './batch-norm-programs';
import { WEBGPU, WebgpuKernelArgs, runProgram } from './webgpu-program';

/**
 * Training-mode batch norm with the residual add and ReLU fused: one pass over x for the channel
 * sums, two tiny folds for the mean and variance, and one pass that writes y.
 */
function fusedBatchNorm({
  inputs,
  backend,
  attrs,
}: WebgpuKernelArgs<FusedBatchNormInputs, FusedBatchNormAttrs>): TensorInfo[] {
  const { x, scale, offset, residual } = inputs;
  const geometry = channelRows(x.shape);
  const sums = new ChannelSumsProgram('moments', geometry);
  const partials = runProgram(backend, sums, [x], sums.programUniforms());
  const totalUniforms = sums.totalUniforms(attrs.epsilon);
  const mean = runProgram(
    backend,
    new ChannelTotalProgram('mean', geometry.channels),
    [partials, x],
    totalUniforms,
  );
  const variance = runProgram(
    backend,
    new ChannelTotalProgram('variance', geometry.channels),
    [partials],
    totalUniforms,
    [partials],
  );
  const map = residual
    ? attrs.relu
      ? 'normaliseResidualRelu'
      : 'normaliseResidual'
    : attrs.relu
      ? 'normaliseRelu'
      : 'normalise';
  const normalise = new ChannelwiseProgram(map, x.shape);
  const y = runProgram(
    backend,
    normalise,
    residual ? [x, mean, variance, scale, offset, residual] : [x, mean, variance, scale, offset],
    normalise.programUniforms(attrs.epsilon),
  );
  return [y, mean, variance];
}

export const fusedBatchNormConfig = typedKernelConfig(FUSED_BATCH_NORM, WEBGPU, fusedBatchNorm);
