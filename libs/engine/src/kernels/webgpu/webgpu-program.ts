/// <reference types="@webgpu/types" />
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TypedKernelArgs } from '../typed-kernel';

/** The backend's name as tfjs-backend-webgpu registers it. */
export const WEBGPU = 'webgpu';

/** A program's own uniforms, in the order its `uniforms` declaration lists them. */
export type ProgramUniforms = Array<{ type: 'int32' | 'float32'; data: number[] }>;

/**
 * Scalar uniforms, one entry each: tfjs lays an entry of 2 to 4 values out as a vector (with a
 * vector's alignment), which would not match a struct of scalar fields.
 */
export function scalarUniforms(type: 'int32' | 'float32', ...values: number[]): ProgramUniforms {
  return values.map((value) => ({ type, data: [value] }));
}

/** The arguments tfjs-core passes a kernel function on this backend. */
export type WebgpuKernelArgs<Inputs, Attrs> = TypedKernelArgs<WebGPUBackend, Inputs, Attrs>;

/**
 * The fields every program of this project shares. tfjs-backend-webgpu generates the bindings
 * (`result`, one storage array per variable name, `uniforms`) and calls the user code's `main`; a
 * program whose dispatch layout has no y or z gets `main(index)` with the flat global index.
 */
export abstract class ComputeProgram implements WebGPUProgram {
  abstract outputShape: number[];
  abstract shaderKey: string;
  abstract dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  abstract dispatch: [number, number, number];
  abstract variableNames: string[];
  abstract workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  abstract getUserCode(): string;
}

/** Workgroups needed to cover `count` items, `perWorkgroup` at a time. */
export function workgroupsFor(count: number, perWorkgroup: number): number {
  return Math.ceil(count / perWorkgroup);
}

const ELEMENTWISE_THREADS = 256;

/**
 * A program with one thread per output element: the user code's `main(index)` returns at once
 * for an index at or past `uniforms.size`, the output's element count.
 */
export abstract class ElementwiseProgram extends ComputeProgram {
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ELEMENTWISE_THREADS, 1, 1];
  override size = true;

  constructor(outputShape: number[]) {
    super();
    this.outputShape = outputShape;
    const elements = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [workgroupsFor(elements, ELEMENTWISE_THREADS), 1, 1];
  }
}

/** Runs `program` and hands its output back, disposing `temporaries` once the command is recorded. */
export function runProgram(
  backend: WebGPUBackend,
  program: ComputeProgram,
  inputs: TensorInfo[],
  uniforms: ProgramUniforms = [],
  temporaries: TensorInfo[] = [],
): TensorInfo {
  const output = backend.runWebGPUProgram(program, inputs, 'float32', uniforms);
  for (const t of temporaries) backend.disposeData(t.dataId);
  return output;
}
