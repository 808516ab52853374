/** Spare bytes a buffer grows by, so that messages a few header bytes longer still fit. */
const SLACK_BYTES = 64 * 1024;

/**
 * Memory reused from one big message to the next. A fresh buffer of hundreds of megabytes costs a
 * page fault per 4 KiB page as it is first written and, once dropped, garbage collections; one
 * that is kept costs neither. Each take() hands out the same memory again, so whatever the
 * previous one returned must no longer be in use.
 */
export class ReusableBuffer {
  private bytes = Buffer.alloc(0);

  /** `size` bytes at offset 0 of their own ArrayBuffer, so that typed-array views of them are aligned. */
  take(size: number): Buffer {
    if (this.bytes.length < size) this.bytes = Buffer.from(new ArrayBuffer(size + SLACK_BYTES));
    return this.bytes.subarray(0, size);
  }
}

/** ReusableBuffers for the messages of one round (a step's gradients, say), all given back at once. */
export class ReusableBufferPool {
  private readonly buffers: ReusableBuffer[] = [];
  private used = 0;

  next(): ReusableBuffer {
    if (this.used === this.buffers.length) this.buffers.push(new ReusableBuffer());
    return this.buffers[this.used++];
  }

  /** Every buffer handed out is free again. */
  releaseAll(): void {
    this.used = 0;
  }
}
