import {
  Conv2DBackpropInput,
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { supportedConvInfo } from '../conv-geometry';
import { typedKernelConfig } from '../typed-kernel';
import { ConvGemmProgram, convGemmGeometry, convGemmUniforms } from './conv-gemm-program';
import { WEBGPU, WebgpuKernelArgs, runProgram } from './webgpu-program';

type Shape4 = [number, number, number, number];

/** Gradient of a convolution with respect to its input, as one implicit-GEMM dispatch. */
function conv2dBackpropInput({
  inputs,
  backend,
  attrs,
}: WebgpuKernelArgs<Conv2DBackpropInputInputs, Conv2DBackpropInputAttrs>): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const conv = supportedConvInfo(Conv2DBackpropInput, attrs.inputShape, filter.shape as Shape4, attrs);
  const geometry = convGemmGeometry('backpropInput', conv);
  const program = new ConvGemmProgram('backpropInput', conv, geometry, conv.inShape);
  return runProgram(backend, program, [dy, filter], convGemmUniforms(conv, geometry));
}

export const conv2dBackpropInputConfig = typedKernelConfig(Conv2DBackpropInput, WEBGPU, conv2dBackpropInput);
