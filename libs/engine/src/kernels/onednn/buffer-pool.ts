/**
 * Recycles the output buffers of the native kernels. A training step makes hundreds of tensors of
 * a few repeating sizes (8 MiB each for ResNet-20's first stage at batch 128); taking fresh memory
 * for each costs page faults and cache misses on every write, while a buffer freed a moment ago is
 * mapped and usually still in cache.
 *
 * A buffer may be reused only when nothing can still see it, so the pool counts the tensors whose
 * values are that buffer or a view of it (the cpu backend's Slice, for one, returns views) and
 * never reuses a buffer that was handed out of the backend (readSync: dataSync(), data()).
 */
interface Ownership {
  /** The whole buffer as allocated, what a later take() hands out again. */
  readonly array: Float32Array;
  /** Live tensors whose values are this buffer or a view of it. */
  tensors: number;
  /** Returned by readSync: the caller may hold it for ever. */
  escaped: boolean;
}

/** Below this size allocation is cheap (malloc's own free lists), and pooling is not worth the bookkeeping. */
const MIN_POOLED_ELEMENTS = 16 * 1024;

export class BufferPool {
  private readonly owners = new WeakMap<ArrayBufferLike, Ownership>();
  /** Free buffers by element count, most recently freed last (the likeliest to be in cache). */
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;

  /** @param maxFreeBytes how much freed memory to keep for reuse; beyond it, buffers go to the GC. */
  constructor(private readonly maxFreeBytes: number) {}

  /** A buffer with unspecified contents, for a kernel that writes every element. */
  take(size: number): Float32Array {
    const array = this.free.get(size)?.pop() ?? this.allocate(size);
    if (size >= MIN_POOLED_ELEMENTS) {
      if (this.owners.has(array.buffer)) this.freeBytes -= array.byteLength;
      this.owners.set(array.buffer, { array, tensors: 0, escaped: false });
    }
    return array;
  }

  /** A tensor now holds `values`. */
  retain(values: unknown): void {
    const owner = this.ownerOf(values);
    if (owner) owner.tensors++;
  }

  /** A tensor that held `values` was deleted. */
  release(values: unknown): void {
    const owner = this.ownerOf(values);
    if (!owner || --owner.tensors > 0 || owner.escaped) return;
    const { array } = owner;
    if (this.freeBytes + array.byteLength > this.maxFreeBytes) {
      this.owners.delete(array.buffer);
      return;
    }
    const list = this.free.get(array.length) ?? [];
    list.push(array);
    this.free.set(array.length, list);
    this.freeBytes += array.byteLength;
  }

  /** `values` left the backend; its buffer must never be reused. */
  escape(values: unknown): void {
    const owner = this.ownerOf(values);
    if (owner) owner.escaped = true;
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  private ownerOf(values: unknown): Ownership | undefined {
    return ArrayBuffer.isView(values) ? this.owners.get(values.buffer) : undefined;
  }

  private allocate(size: number): Float32Array {
    // Uninitialised memory: zero-filling it (as `new Float32Array` does) would be a wasted pass.
    return new Float32Array(Buffer.allocUnsafeSlow(size * Float32Array.BYTES_PER_ELEMENT).buffer, 0, size);
  }
}
