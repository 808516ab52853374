import { xxh3 } from './checksum/xxh3';
import { CodecError } from './errors/codec.error';
import { ReusableBuffer } from './reusable-buffer';
import { bytesPerValue, roundToHalf, TENSOR_DTYPES, TensorDtype, widenFromHalf } from './tensor-dtype';

/**
 * Binary framing for tensors that travel through Redis (weights and gradients):
 *
 *   magic "RNT2" | u32 header length | header JSON (utf-8) | zero padding to 4 bytes |
 *   little-endian values of every tensor, back to back | u64 XXH3-64 of all bytes before it
 *
 * The header names each tensor and its shape, in the order of the data, the values' number format
 * (dtype: fp32 when absent, or fp16/bf16, see tensor-dtype.ts), plus free-form metadata. The data
 * section is one contiguous run, so an fp32 message decodes to a single Float32Array that is a view
 * of the message itself, not a copy; half-precision messages are widened to fp32 on decoding.
 *
 * The magic is the format's version: a change to the framing takes the next one ("RNT3"), and
 * decode() refuses any magic but its own. ("RNT1" ended in a CRC-32; nothing reads it any more.)
 */
const MAGIC = 0x32544e52; // "RNT2" read as little-endian u32
const CHECKSUM_BYTES = 8;
// Typed-array views use the host's byte order; the wire format is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface TensorMessage<M = Record<string, unknown>> {
  readonly tensors: readonly TensorEntry[];
  readonly meta: M;
  /** The format the values travelled in. */
  readonly dtype: TensorDtype;
  /**
   * All tensors' values in header order. For fp32 messages this usually shares memory with the
   * decoded buffer: read it, or copy it before changing it.
   */
  readonly data: Float32Array;
}

export interface EncodeOptions {
  /** Number format of the values on the wire (default fp32, exact). */
  readonly dtype?: TensorDtype;
  /**
   * Error feedback for fp16/bf16: the rounding residual of the previous message, added to the
   * leading values before rounding and replaced by this message's residual. Ignored for fp32.
   */
  readonly residual?: Float32Array;
  /** Memory to encode into (the message is then a view of it, valid until it is taken again). */
  readonly into?: ReusableBuffer;
}

export interface DecodeOptions {
  /** Memory to widen fp16/bf16 values into (fp32 values are read where they lie). */
  readonly into?: ReusableBuffer;
}

function elementCount(tensors: readonly TensorEntry[]): number {
  return tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

export const TensorCodec = {
  encode<M>(
    tensors: readonly TensorEntry[],
    data: readonly Float32Array[],
    meta: M,
    options: EncodeOptions = {},
  ): Buffer {
    if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
    const dtype = options.dtype ?? 'fp32';
    const count = elementCount(tensors);
    const given = data.reduce((n, d) => n + d.length, 0);
    if (given !== count)
      throw new CodecError(`tensor data has ${given} values, the header's shapes need ${count}`);
    const header = Buffer.from(
      JSON.stringify(dtype === 'fp32' ? { tensors, meta } : { tensors, meta, dtype }),
      'utf8',
    );
    const dataOffset = Math.ceil((8 + header.length) / 4) * 4;
    const dataEnd = dataOffset + count * bytesPerValue(dtype);
    // Memory of its own (offset 0), so that the data section is aligned for typed-array views.
    const length = dataEnd + CHECKSUM_BYTES;
    const out = options.into ? options.into.take(length) : Buffer.from(new ArrayBuffer(length));
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt32LE(header.length, 4);
    header.copy(out, 8);
    out.fill(0, 8 + header.length, dataOffset); // reused memory holds an earlier message
    let offset = dataOffset;
    let residual = options.residual;
    for (const d of data) {
      if (dtype === 'fp32') {
        new Float32Array(out.buffer, out.byteOffset + offset, d.length).set(d);
      } else {
        roundToHalf(
          dtype,
          d,
          new Uint16Array(out.buffer, out.byteOffset + offset, d.length),
          residual?.subarray(0, d.length),
        );
        residual = residual?.subarray(Math.min(d.length, residual.length));
      }
      offset += d.length * bytesPerValue(dtype);
    }
    out.writeBigUInt64LE(xxh3(out.subarray(0, dataEnd)), dataEnd);
    return out;
  },

  decode<M = Record<string, unknown>>(buf: Buffer, options: DecodeOptions = {}): TensorMessage<M> {
    if (buf.length < 12) throw new CodecError(`message of ${buf.length} bytes is too short`);
    const magic = buf.readUInt32LE(0);
    if (magic !== MAGIC)
      throw new CodecError(
        `message does not start with the tensor magic "RNT2" but "${buf.toString('latin1', 0, 4)}": another format or version`,
      );
    const headerLength = buf.readUInt32LE(4);
    if (8 + headerLength + CHECKSUM_BYTES > buf.length)
      throw new CodecError('message is truncated inside its header');
    let parsed: { tensors: TensorEntry[]; meta: M; dtype?: TensorDtype };
    try {
      parsed = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
    } catch (e) {
      throw new CodecError(`message header is not valid JSON: ${(e as Error).message}`);
    }
    const dtype = parsed.dtype ?? 'fp32';
    if (!TENSOR_DTYPES.includes(dtype))
      throw new CodecError(`message values are in an unknown format "${dtype}"`);
    const dataOffset = Math.ceil((8 + headerLength) / 4) * 4;
    const count = elementCount(parsed.tensors);
    const end = dataOffset + count * bytesPerValue(dtype);
    if (end + CHECKSUM_BYTES !== buf.length) {
      throw new CodecError(
        `message has ${buf.length} bytes, its header promises ${end + CHECKSUM_BYTES}: truncated or padded`,
      );
    }
    if (buf.readBigUInt64LE(end) !== xxh3(buf.subarray(0, end)))
      throw new CodecError('message checksum does not match: the data was corrupted');
    return {
      tensors: parsed.tensors,
      meta: parsed.meta,
      dtype,
      data: valuesOf(buf, dataOffset, count, dtype, options.into),
    };
  },
};

/** The data section as fp32: a view when the bytes are fp32 and aligned, else a converted copy. */
function valuesOf(
  buf: Buffer,
  dataOffset: number,
  count: number,
  dtype: TensorDtype,
  into?: ReusableBuffer,
): Float32Array {
  const start = buf.byteOffset + dataOffset;
  const bytes = buf.subarray(dataOffset, dataOffset + count * bytesPerValue(dtype));
  if (dtype === 'fp32') {
    if (start % 4 === 0) return new Float32Array(buf.buffer, start, count);
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes);
    return data;
  }
  const halves =
    start % 2 === 0
      ? new Uint16Array(buf.buffer, start, count)
      : new Uint16Array(Uint8Array.from(bytes).buffer);
  const data = into ? new Float32Array(into.take(count * 4).buffer, 0, count) : new Float32Array(count);
  widenFromHalf(dtype, halves, data);
  return data;
}
