import path from 'node:path';
import { compiledWasmModule } from '../wasm-module';

/**
 * XXH3-64 with seed 0 and the default secret (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
 * Inputs over 240 bytes, every message that matters here, are hashed in WebAssembly SIMD
 * (`xxh3.wat`) at several times the speed of zlib's CRC-32; short inputs take the specification's
 * short paths in BigInt arithmetic, where speed does not matter.
 */

const M64 = (1n << 64n) - 1n;
const PRIME32_1 = 0x9e3779b1n;
const PRIME32_2 = 0x85ebca77n;
const PRIME32_3 = 0xc2b2ae3dn;
const PRIME64_1 = 0x9e3779b185ebca87n;
const PRIME64_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME64_3 = 0x165667b19e3779f9n;
const PRIME64_4 = 0x85ebca77c2b2ae63n;
const PRIME64_5 = 0x27d4eb2f165667c5n;
const PRIME_MX1 = 0x165667919e3779f9n;
const PRIME_MX2 = 0x9fb21c651e98df25n;

/** The default secret, kSecret. */
const SECRET = Buffer.from(
  'b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671fcb79e64eccc0e578825ad07dccff7221' +
    'b8084674f743248ee03590e6813a264c3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
    'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364eac5ac8334d3ebc3c581a0fffa1363eb' +
    '170ddd51b7f0da49d316552629d4689e2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e',
  'hex',
);

// Layout of the module's memory (see xxh3.wat).
const LANES = 0;
const SECRET_AT = 64;
/** Input is staged 2.5 kB past a page boundary: copies from page-aligned buffers then avoid 4K aliasing. */
const STAGE = 2560;
const BLOCK = 1024;
/** Blocks staged and hashed per call, so that the staged input stays in the L1/L2 cache. */
const CHUNK_BLOCKS = 32;

interface Xxh3Exports {
  readonly memory: WebAssembly.Memory;
  accumulate(p: number, stripes: number, secret: number): void;
  blocks(p: number, n: number): void;
}

let loaded:
  { readonly k: Xxh3Exports; readonly lanes: BigUint64Array; readonly memory: Uint8Array } | undefined;

function kernel(): NonNullable<typeof loaded> {
  if (!loaded) {
    const k = new WebAssembly.Instance(compiledWasmModule(path.join(__dirname, 'xxh3.wasm')), {})
      .exports as unknown as Xxh3Exports;
    const memory = new Uint8Array(k.memory.buffer);
    memory.set(SECRET, SECRET_AT);
    loaded = { k, lanes: new BigUint64Array(k.memory.buffer, LANES, 8), memory };
  }
  return loaded;
}

/** The XXH3-64 hash of `bytes` (seed 0, default secret), as an unsigned 64-bit integer. */
export function xxh3(bytes: Uint8Array): bigint {
  const len = bytes.length;
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, len);
  if (len <= 16) return short(input);
  if (len <= 128) return upTo128(input);
  if (len <= 240) return upTo240(input);
  return long(input);
}

const u64 = (b: Buffer, at: number): bigint => b.readBigUInt64LE(at);
const u32 = (b: Buffer, at: number): bigint => BigInt(b.readUInt32LE(at));
const mul = (a: bigint, b: bigint): bigint => (a * b) & M64;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;

/** The 128-bit product of a and b, its halves xor-ed. */
function mulFold(a: bigint, b: bigint): bigint {
  const product = a * b;
  return (product & M64) ^ (product >> 64n);
}

function xxh64Avalanche(h: bigint): bigint {
  h = mul(h ^ (h >> 33n), PRIME64_2);
  h = mul(h ^ (h >> 29n), PRIME64_3);
  return h ^ (h >> 32n);
}

function avalanche(h: bigint): bigint {
  h = mul(h ^ (h >> 37n), PRIME_MX1);
  return h ^ (h >> 32n);
}

function rrmxmx(h: bigint, len: number): bigint {
  h ^= rotl(h, 49n) ^ rotl(h, 24n);
  h = mul(h, PRIME_MX2);
  h ^= (h >> 35n) + BigInt(len);
  h = mul(h, PRIME_MX2);
  return h ^ (h >> 28n);
}

function short(input: Buffer): bigint {
  const len = input.length;
  if (len === 0) return xxh64Avalanche(u64(SECRET, 56) ^ u64(SECRET, 64));
  if (len <= 3) {
    const combined =
      (BigInt(input[0]) << 16n) |
      (BigInt(input[len >> 1]) << 24n) |
      BigInt(input[len - 1]) |
      (BigInt(len) << 8n);
    return xxh64Avalanche(combined ^ (u32(SECRET, 0) ^ u32(SECRET, 4)));
  }
  if (len <= 8) {
    const joined = u32(input, len - 4) + (u32(input, 0) << 32n);
    return rrmxmx(joined ^ (u64(SECRET, 8) ^ u64(SECRET, 16)), len);
  }
  const lo = u64(input, 0) ^ u64(SECRET, 24) ^ u64(SECRET, 32);
  const hi = u64(input, len - 8) ^ u64(SECRET, 40) ^ u64(SECRET, 48);
  return avalanche((BigInt(len) + byteSwap(lo) + hi + mulFold(lo, hi)) & M64);
}

function byteSwap(x: bigint): bigint {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(x);
  return bytes.readBigUInt64BE(0);
}

function mix16(input: Buffer, at: number, secret: number): bigint {
  return mulFold(u64(input, at) ^ u64(SECRET, secret), u64(input, at + 8) ^ u64(SECRET, secret + 8));
}

function upTo128(input: Buffer): bigint {
  const len = input.length;
  let acc = mul(BigInt(len), PRIME64_1);
  if (len > 32) {
    if (len > 64) {
      if (len > 96) acc += mix16(input, 48, 96) + mix16(input, len - 64, 112);
      acc += mix16(input, 32, 64) + mix16(input, len - 48, 80);
    }
    acc += mix16(input, 16, 32) + mix16(input, len - 32, 48);
  }
  acc += mix16(input, 0, 0) + mix16(input, len - 16, 16);
  return avalanche(acc & M64);
}

function upTo240(input: Buffer): bigint {
  const len = input.length;
  let acc = mul(BigInt(len), PRIME64_1);
  for (let i = 0; i < 8; i++) acc += mix16(input, 16 * i, 16 * i);
  acc = avalanche(acc & M64);
  for (let i = 8; i < Math.floor(len / 16); i++) acc += mix16(input, 16 * i, 16 * (i - 8) + 3);
  acc += mix16(input, len - 16, 136 - 17);
  return avalanche(acc & M64);
}

/** Over 240 bytes: stripes and blocks in WebAssembly, a chunk of blocks staged at a time; the merge here. */
function long(input: Buffer): bigint {
  const { k, lanes, memory } = kernel();
  lanes.set([PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1]);
  const len = input.length;
  const blocks = Math.floor((len - 1) / BLOCK);
  for (let b = 0; b < blocks; b += CHUNK_BLOCKS) {
    const n = Math.min(CHUNK_BLOCKS, blocks - b);
    memory.set(input.subarray(b * BLOCK, (b + n) * BLOCK), STAGE);
    k.blocks(STAGE, n);
  }
  // The last, partial block's stripes, and the input's last 64 bytes, which may reach back into the block before.
  const tail = blocks * BLOCK;
  const from = Math.max(0, tail - 64);
  memory.set(input.subarray(from), STAGE);
  const p = STAGE + tail - from;
  const n = len - tail;
  k.accumulate(p, Math.floor((n - 1) / 64), SECRET_AT);
  k.accumulate(p + n - 64, 1, SECRET_AT + SECRET.length - 64 - 7);
  let acc = mul(BigInt(len), PRIME64_1);
  for (let i = 0; i < 4; i++)
    acc += mulFold(lanes[2 * i] ^ u64(SECRET, 11 + 16 * i), lanes[2 * i + 1] ^ u64(SECRET, 11 + 16 * i + 8));
  return avalanche(acc & M64);
}

/** XXH3-64 as 16 hex digits: how commit records and step reports name a weights unit. */
export function xxh3Hex(bytes: Uint8Array): string {
  return xxh3(bytes).toString(16).padStart(16, '0');
}
