/**
 * The `onednn` TensorFlow.js backend: tfjs' pure-JavaScript cpu backend, whose tensors are plain
 * TypedArrays that the addon reads and writes in place, with the hot kernels replaced by native
 * ones (see register-onednn-backend.ts). Every kernel it does not replace is the cpu backend's own.
 */
import type { backend_util, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { DEFAULT_PRECISION, Precision } from '@resnet/protocol';

import { BufferPool } from './buffer-pool';

export const ONEDNN = 'onednn';

/** Freed output buffers kept for reuse: about one training step's activations of ResNet-20 at batch 128. */
const POOLED_BYTES = 512 * 1024 * 1024;

export class OnednnBackend extends MathBackendCPU {
  private readonly buffers = new BufferPool(POOLED_BYTES);
  /**
   * What the convolutions and matrix products compute in (their inputs and outputs stay float32
   * tensors either way); set for each job by setComputePrecision.
   */
  precision: Precision = DEFAULT_PRECISION;

  constructor() {
    super();
    // The cpu backend's first write prints "install tfjs-node to speed things up", which is not
    // advice for this backend; the flag is private in its typings.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The values of a float32 tensor of this backend (the cpu backend keeps them as a Float32Array). */
  float32Values(info: TensorInfo): Float32Array {
    return this.data.get(info.dataId).values as Float32Array;
  }

  /** An output buffer for a native kernel, which must write every element. */
  outputBuffer(size: number): Float32Array {
    return this.buffers.take(size);
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.buffers.retain(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.buffers.retain(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.buffers.release(values);
    return released;
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.buffers.escape(values);
    return values;
  }

  override dispose(): void {
    this.buffers.clear();
    super.dispose();
  }
}
