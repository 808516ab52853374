/**
 * The `onednn` TensorFlow.js backend: tfjs' pure-JavaScript cpu backend, whose tensors are plain
 * TypedArrays that the addon reads and writes in place, with the hot kernels replaced by native
 * ones (see register-onednn-backend.ts). Every kernel it does not replace is the cpu backend's own.
 *
 * At bf16 precision, a convolution's output and the batch-norm gradient that flows back into it
 * are stored as bfloat16, as under PyTorch's autocast: half the memory and traffic of the
 * activations between a convolution and its batch norm, and no conversion on the way into the
 * next bf16 convolution. tfjs has no bf16 dtype, so such a tensor is a `float32` tensor whose
 * values hold two bf16 values per slot, marked here (isBf16). The kernels that read bf16 take it
 * as it is; every other kernel gets a float32 copy (see widenBf16Inputs), and so does readSync.
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
  /** Tensors whose values are bfloat16 (two per float32 slot), with their counts; a data id is never reused. */
  private readonly bf16Data = new WeakMap<DataId, number>();

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

  /** Whether the tensor's values are bfloat16 (see the class comment). */
  isBf16(info: TensorInfo): boolean {
    return this.bf16Data.has(info.dataId);
  }

  /** The values of a bf16 tensor, as 16-bit patterns. */
  bf16Values(info: TensorInfo): Uint16Array {
    return this.bf16Storage(info.dataId);
  }

  /** The values of an activation as the addon takes them: float32, or bf16 when stored so. */
  activationValues(info: TensorInfo): Float32Array | Uint16Array {
    return this.isBf16(info) ? this.bf16Values(info) : this.float32Values(info);
  }

  /** An output buffer for `size` bfloat16 values, for a kernel that writes every one; see makeBf16TensorInfo. */
  bf16OutputBuffer(size: number): Uint16Array {
    const storage = this.buffers.take(Math.ceil(size / 2));
    return new Uint16Array(storage.buffer, storage.byteOffset, size);
  }

  /** A tensor of the bf16 values in `values` (from bf16OutputBuffer). */
  makeBf16TensorInfo(shape: number[], values: Uint16Array): TensorInfo {
    const storage = new Float32Array(values.buffer, values.byteOffset, Math.ceil(values.length / 2));
    const info = this.makeTensorInfo(shape, 'float32', storage);
    this.bf16Data.set(info.dataId, values.length);
    return info;
  }

  /** A float32 copy of a bf16 tensor, for kernels that read float32; the caller disposes it. */
  widenBf16(info: TensorInfo): TensorInfo {
    return this.makeTensorInfo([...info.shape], 'float32', widen(this.bf16Values(info)));
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
    if (this.bf16Data.has(dataId)) return widen(this.bf16Storage(dataId));
    const values = super.readSync(dataId);
    this.buffers.escape(values);
    return values;
  }

  private bf16Storage(dataId: DataId): Uint16Array {
    const storage = this.data.get(dataId).values as Float32Array;
    return new Uint16Array(storage.buffer, storage.byteOffset, this.bf16Data.get(dataId));
  }

  override dispose(): void {
    this.buffers.clear();
    super.dispose();
  }
}

/** bfloat16 patterns as float32 values: exact, each is the float32 with the same top 16 bits. */
function widen(bf16: Uint16Array): Float32Array {
  const bits = new Uint32Array(bf16.length);
  for (let i = 0; i < bf16.length; i++) bits[i] = bf16[i] << 16;
  return new Float32Array(bits.buffer);
}
