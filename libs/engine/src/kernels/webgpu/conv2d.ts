import { Conv2D, Conv2DAttrs, Conv2DInputs, TensorInfo } from '@tensorflow/tfjs-core';
import { supportedConvInfo } from '../conv-geometry';
import { typedKernelConfig } from '../typed-kernel';
import { ConvGemmProgram, convGemmGeometry, convGemmUniforms } from './conv-gemm-program';
import { WEBGPU, WebgpuKernelArgs, runProgram } from './webgpu-program';

type Shape4 = [number, number, number, number];

/** Forward convolution (NHWC, HWIO filter) as one implicit-GEMM dispatch. */
function conv2d({ inputs, backend, attrs }: WebgpuKernelArgs<Conv2DInputs, Conv2DAttrs>): TensorInfo {
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  const conv = supportedConvInfo(Conv2D, x.shape as Shape4, filter.shape as Shape4, attrs);
  const geometry = convGemmGeometry('forward', conv);
  const program = new ConvGemmProgram('forward', conv, geometry, conv.outShape);
  return runProgram(backend, program, [x, filter], convGemmUniforms(conv, geometry));
}

export const conv2dConfig = typedKernelConfig(Conv2D, WEBGPU, conv2d);
