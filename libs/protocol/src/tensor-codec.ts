import { crc32 } from 'node:zlib';
import { CodecError } from './errors/codec.error';

/**
 * Binary framing for tensors that travel through Redis (weights and gradients):
 *
 *   magic "RNT1" | u32 header length | header JSON (utf-8) | zero padding to 4 bytes |
 *   float32 little-endian data of every tensor, back to back | u32 CRC-32 of all bytes before it
 *
 * The header names each tensor and its shape, in the order of the data, plus free-form metadata.
 * The data section is one contiguous float32 run, so a decoder hands it out as a single
 * Float32Array without copying tensor by tensor.
 */
const MAGIC = 0x31544e52; // "RNT1" read as little-endian u32
// Float32Array views use the host's byte order; the wire format is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface TensorMessage<M = Record<string, unknown>> {
  readonly tensors: readonly TensorEntry[];
  readonly meta: M;
  /** All tensors' values in header order. */
  readonly data: Float32Array;
}

function elementCount(tensors: readonly TensorEntry[]): number {
  return tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

export const TensorCodec = {
  encode<M>(tensors: readonly TensorEntry[], data: readonly Float32Array[], meta: M): Buffer {
    if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
    const count = elementCount(tensors);
    const given = data.reduce((n, d) => n + d.length, 0);
    if (given !== count) throw new CodecError(`tensor data has ${given} values, the header's shapes need ${count}`);
    const header = Buffer.from(JSON.stringify({ tensors, meta }), 'utf8');
    const dataOffset = Math.ceil((8 + header.length) / 4) * 4;
    const out = Buffer.alloc(dataOffset + count * 4 + 4);
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt32LE(header.length, 4);
    header.copy(out, 8);
    let offset = dataOffset;
    for (const d of data) {
      // Buffers from Buffer.alloc are not always 4-byte aligned, so copy bytes rather than floats.
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      out.set(bytes, offset);
      offset += d.byteLength;
    }
    out.writeUInt32LE(crc32(out.subarray(0, offset)), offset);
    return out;
  },

  decode<M = Record<string, unknown>>(buf: Buffer): TensorMessage<M> {
    if (buf.length < 12) throw new CodecError(`message of ${buf.length} bytes is too short`);
    if (buf.readUInt32LE(0) !== MAGIC) throw new CodecError('message does not start with the tensor magic "RNT1"');
    const headerLength = buf.readUInt32LE(4);
    if (8 + headerLength + 4 > buf.length) throw new CodecError('message is truncated inside its header');
    let parsed: { tensors: TensorEntry[]; meta: M };
    try {
      parsed = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
    } catch (e) {
      throw new CodecError(`message header is not valid JSON: ${(e as Error).message}`);
    }
    const dataOffset = Math.ceil((8 + headerLength) / 4) * 4;
    const count = elementCount(parsed.tensors);
    const end = dataOffset + count * 4;
    if (end + 4 !== buf.length) {
      throw new CodecError(`message has ${buf.length} bytes, its header promises ${end + 4}: truncated or padded`);
    }
    const expected = buf.readUInt32LE(end);
    const actual = crc32(buf.subarray(0, end));
    if (expected !== actual) throw new CodecError('message checksum does not match: the data was corrupted');
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(dataOffset, end));
    return { tensors: parsed.tensors, meta: parsed.meta, data };
  },
};
