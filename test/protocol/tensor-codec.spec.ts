import * as assert from 'node:assert/strict';
import { architectureFor, layoutsOf } from '@resnet/model';
import { CodecError, TensorCodec, xxh3 } from '@resnet/protocol';
import { ModelTensorCodec } from '@resnet/job';

describe('TensorCodec', () => {
  const tensors = [
    { name: 'a', shape: [2, 2] },
    { name: 'b', shape: [3] },
  ];
  const data = [Float32Array.from([1, 2, 3, 4]), Float32Array.from([-1.5, 1e-30, 3.25])];

  it('round-trips names, shapes, metadata and exact float32 values', () => {
    const buf = TensorCodec.encode(tensors, data, { step: 7 });
    const msg = TensorCodec.decode<{ step: number }>(buf);
    assert.deepEqual(msg.tensors, tensors);
    assert.equal(msg.meta.step, 7);
    assert.deepEqual(Array.from(msg.data), [1, 2, 3, 4, -1.5, Math.fround(1e-30), 3.25]);
  });

  it('writes little-endian float32 after a 4-byte-aligned header, then the XXH3-64 of all before', () => {
    const buf = TensorCodec.encode([{ name: 'x', shape: [1] }], [Float32Array.from([1])], {});
    assert.equal(buf.toString('latin1', 0, 4), 'RNT2');
    const dataOffset = buf.length - 12;
    assert.equal(dataOffset % 4, 0);
    assert.equal(buf.readFloatLE(dataOffset), 1);
    assert.equal(buf.readBigUInt64LE(buf.length - 8), xxh3(buf.subarray(0, buf.length - 8)));
  });

  it('refuses a message of another format version, naming its magic', () => {
    const other = Buffer.from(TensorCodec.encode(tensors, data, {}));
    other.write('RNT1', 0, 'latin1');
    assert.throws(() => TensorCodec.decode(other), /magic "RNT2" but "RNT1"/);
  });

  it('rejects truncated, padded, corrupted and foreign messages', () => {
    const buf = TensorCodec.encode(tensors, data, {});
    assert.throws(() => TensorCodec.decode(buf.subarray(0, buf.length - 3)), CodecError);
    assert.throws(() => TensorCodec.decode(Buffer.concat([buf, Buffer.alloc(4)])), /truncated or padded/);
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 10] ^= 0x40;
    assert.throws(() => TensorCodec.decode(flipped), /checksum/);
    const header = Buffer.from(buf);
    header[9] ^= 0x01;
    assert.throws(() => TensorCodec.decode(header), /checksum|JSON/);
    const trailer = Buffer.from(buf);
    trailer[trailer.length - 1] ^= 0x80;
    assert.throws(() => TensorCodec.decode(trailer), /checksum/);
    assert.throws(() => TensorCodec.decode(Buffer.from('{"json": "arrays"}')), /magic/);
    assert.throws(() => TensorCodec.encode(tensors, [data[0]], {}), /need 7/);
  });
});

describe('ModelTensorCodec', () => {
  const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 10 }));

  it('carries a whole ResNet-20 as one binary message and checks it against the model', () => {
    const params = Float32Array.from({ length: layouts.params.size }, (_, i) => i % 97);
    const state = new Float32Array(layouts.state.size).fill(0.5);
    const buf = ModelTensorCodec.encode(layouts, params, state, {});
    assert.ok(buf.length < params.byteLength + state.byteLength + 8192, 'header is small');
    const decoded = ModelTensorCodec.decode(layouts, buf);
    assert.deepEqual(decoded.params, params);
    assert.deepEqual(decoded.state, state);
    const other = layoutsOf(architectureFor('resnet32', { numClasses: 10 }));
    assert.throws(() => ModelTensorCodec.decode(other, buf), /the model has|model expects/);
  });
});
