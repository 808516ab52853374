import type { backend_util } from '@tensorflow/tfjs-core';
import { ChannelSumsProgram, channelRows } from './batch-norm-programs';
import { ConvGemmProduct, ConvGemmProgram, convGemmGeometry } from './conv-gemm-program';

/** How one of this project's programs is dispatched: for checking its shape against a GPU's size. */
export interface DispatchShape {
  readonly program: string;
  /** The output block one workgroup computes (rows × columns), for the GEMMs. */
  readonly tile?: string;
  readonly threadsPerWorkgroup: number;
  readonly workgroups: number;
  /** The filter gradient's reduction splits. */
  readonly splits?: number;
}

function shapeOf(program: ConvGemmProgram | ChannelSumsProgram): { threads: number; workgroups: number } {
  const [x, y, z] = program.workgroupSize;
  const [dx, dy, dz] = program.dispatch;
  return { threads: x * y * z, workgroups: dx * dy * dz };
}

/** The GEMM dispatches of a convolution's three products. */
export function convDispatchShapes(conv: backend_util.Conv2DInfo): DispatchShape[] {
  const products: ConvGemmProduct[] = ['forward', 'backpropInput', 'backpropFilter'];
  return products.map((product) => {
    const geometry = convGemmGeometry(product, conv);
    const { threads, workgroups } = shapeOf(new ConvGemmProgram(product, conv, geometry, [1]));
    return {
      program: `conv ${product}`,
      tile: `${geometry.tileRows}×${geometry.tileColumns}`,
      threadsPerWorkgroup: threads,
      workgroups,
      splits: product === 'backpropFilter' ? geometry.splits : undefined,
    };
  });
}

/** The channel-sum dispatch of a batch norm over an NHWC tensor of this shape (both directions). */
export function batchNormSumShape(shape: number[]): DispatchShape {
  const { threads, workgroups } = shapeOf(new ChannelSumsProgram('moments', channelRows(shape)));
  return { program: 'batch-norm sums', threadsPerWorkgroup: threads, workgroups };
}
