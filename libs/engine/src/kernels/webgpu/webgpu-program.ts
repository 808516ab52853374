/// <reference types="@webgpu/types" />
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';

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
export interface WebgpuKernelArgs<Inputs, Attrs> {
  inputs: Inputs;
  backend: WebGPUBackend;
  attrs: Attrs;
}

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
