import {
  Conv2DBackpropFilter,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { supportedConvInfo } from '../conv-geometry';
import { typedKernelConfig } from '../typed-kernel';
import {
  ConvGemmProgram,
  convGemmGeometry,
  convGemmUniforms,
  ConvSplitSumProgram,
} from './conv-gemm-program';
import { WEBGPU, WebgpuKernelArgs, runProgram, scalarUniforms } from './webgpu-program';

type Shape4 = [number, number, number, number];

/**
 * Gradient of a convolution with respect to its filter. The reduction runs over every output pixel
 * of the batch, far longer than the filter is large, so it is split into partial GEMMs that run side
 * by side, then added in a fixed order.
 */
function conv2dBackpropFilter({
  inputs,
  backend,
  attrs,
}: WebgpuKernelArgs<Conv2DBackpropFilterInputs, Conv2DBackpropFilterAttrs>): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const conv = supportedConvInfo(Conv2DBackpropFilter, x.shape as Shape4, attrs.filterShape, attrs);
  const geometry = convGemmGeometry('backpropFilter', conv);
  const uniforms = convGemmUniforms(conv, geometry);
  if (geometry.splits === 1) {
    return runProgram(
      backend,
      new ConvGemmProgram('backpropFilter', conv, geometry, conv.filterShape),
      [x, dy],
      uniforms,
    );
  }
  const partialsShape = [geometry.splits, geometry.rows * geometry.columns];
  const partials = runProgram(
    backend,
    new ConvGemmProgram('backpropFilter', conv, geometry, partialsShape),
    [x, dy],
    uniforms,
  );
  return runProgram(
    backend,
    new ConvSplitSumProgram(conv.filterShape),
    [partials],
    scalarUniforms('int32', geometry.splits),
    [partials],
  );
}

export const conv2dBackpropFilterConfig = typedKernelConfig(
  Conv2DBackpropFilter,
  WEBGPU,
  conv2dBackpropFilter,
);
