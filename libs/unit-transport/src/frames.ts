import { UnitTransportError } from './errors/unit-transport.error';

/** Largest frame accepted: a unit is at most a few MB; this bounds what a bad length can make a reader hold. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * One message between a worker and a summation service over TCP:
 *
 *   u32 length of what follows | u32 header length | header JSON (utf-8) | payload
 *
 * both little-endian. The payload, when there is one, is an RNT2 tensor message (weights or
 * gradient unit), which carries its own XXH3 checksum.
 */
export interface Frame<H = Record<string, unknown>> {
  readonly header: H;
  readonly payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** The frame's bytes, as a list to write one after the other (the payload is not copied). */
export function encodeFrame(header: object, payload: Buffer = EMPTY): Buffer[] {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(4 + json.length + payload.length, 0);
  head.writeUInt32LE(json.length, 4);
  return payload.length ? [head, json, payload] : [head, json];
}

/** Cuts a byte stream into frames; a frame that fits in one chunk is handed out as a view of it. */
export class FrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;

  /** The frames completed by `chunk`. Throws UnitTransportError on a broken frame. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) return frames;
      const length = this.peekLength();
      if (length < 4 || length > MAX_FRAME_BYTES)
        throw new UnitTransportError(`a frame of ${length} bytes is not a unit frame`);
      if (this.buffered < 4 + length) return frames;
      const bytes = this.take(4 + length).subarray(4);
      const headerLength = bytes.readUInt32LE(0);
      if (headerLength > length - 4)
        throw new UnitTransportError(`a frame's header of ${headerLength} bytes exceeds its ${length} bytes`);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as Record<string, unknown>;
      } catch {
        throw new UnitTransportError('a frame header is not JSON');
      }
      frames.push({ header, payload: bytes.subarray(4 + headerLength) });
    }
  }

  private peekLength(): number {
    if (this.chunks[0].length >= 4) return this.chunks[0].readUInt32LE(0);
    return Buffer.concat(this.chunks).readUInt32LE(0);
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks.length = 0;
      if (all.length > n) this.chunks.push(all.subarray(n));
    }
    this.buffered -= n;
    return out;
  }
}
