import * as assert from 'node:assert/strict';
import { xxh3 } from '@resnet/protocol';

/** Bytes (31·i + 7) mod 256: the input the reference values below were computed for. */
function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 255;
  return bytes;
}

describe('xxh3', () => {
  it('gives the reference XXH3-64 of short strings', () => {
    // From the reference implementation (python-xxhash 4.0.1, xxh3_64, seed 0).
    assert.equal(xxh3(Buffer.alloc(0)), 0x2d06800538d394c2n);
    assert.equal(xxh3(Buffer.from('a')), 0xe6c632b61e964e1fn);
    assert.equal(xxh3(Buffer.from('abc')), 0x78af5f94892f3950n);
  });

  it('gives the reference XXH3-64 on every code path and across its chunk boundaries', () => {
    // Lengths at the boundaries of the specification's paths (16, 128, 240), of its stripes (64)
    // and blocks (1,024), and of the blocks staged at a time (32 kB), and a ResNet-20 message.
    const reference: [number, bigint][] = [
      [1, 0x4c5cca45d0f4811fn],
      [3, 0x15f7093b173d005cn],
      [4, 0xdca012f95811b6b9n],
      [8, 0xdec6a9a43575982en],
      [9, 0xcbe393399f17ffbdn],
      [16, 0x7e484c18d74895d0n],
      [17, 0x208bde5ee2bed407n],
      [33, 0x199a362122d71f46n],
      [65, 0xfab36b851b94ce20n],
      [97, 0x60e3e1d0d43785b3n],
      [128, 0xf92b70eaa21a6288n],
      [129, 0xf8f76713f2bb60fan],
      [240, 0xccc7375172c41f03n],
      [241, 0x0b3b630948ce4a00n],
      [300, 0xbaad8e6a5f186ce6n],
      [1024, 0x23bc880ebf0d29c6n],
      [1025, 0xc09fdfbc398c7d82n],
      [1088, 0xa16bad67843c5a45n],
      [1089, 0x822327a86aad957cn],
      [32768, 0xbce4876a41e57a1fn],
      [32769, 0xd46b40946104cfa8n],
      [33793, 0xc0d48c5729e3b5cdn],
      [1_100_000, 0x1c59554957422b14n],
    ];
    for (const [length, hash] of reference) assert.equal(xxh3(pattern(length)), hash, `length ${length}`);
  });

  it('hashes the bytes of a view, wherever it lies in its buffer', () => {
    const whole = pattern(5000);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 3, 4000);
    assert.equal(xxh3(view), xxh3(Buffer.from(view)));
  });

  it('changes with any single flipped bit', () => {
    const bytes = pattern(70_000);
    const hash = xxh3(bytes);
    for (const at of [0, 1, 1023, 1024, 32767, 32768, 40_000, 69_935, 69_999]) {
      bytes[at] ^= 0x10;
      assert.notEqual(xxh3(bytes), hash, `bit flipped at ${at}`);
      bytes[at] ^= 0x10;
    }
    assert.equal(xxh3(bytes), hash);
  });
});
