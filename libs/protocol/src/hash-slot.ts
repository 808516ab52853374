/** A Redis Cluster splits its keys into this many slots; each master serves some of them. */
export const CLUSTER_SLOTS = 16384;

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with, a byte at a time. */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * The part of `key` that Redis Cluster hashes: the text between the first `{` and the first `}`
 * after it when that is not empty (its hash tag), else the whole key. Keys with the same tag share
 * a slot, which is what lets scripts and transactions touch several of them.
 */
export function hashTag(key: string | Buffer): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(0x7b); // {
  if (open < 0) return bytes;
  const close = bytes.indexOf(0x7d, open + 1); // }
  if (close < 0 || close === open + 1) return bytes;
  return bytes.subarray(open + 1, close);
}

/** Whether `key` holds a hash tag, so that only the tag decides its slot. */
export function hasHashTag(key: string | Buffer): boolean {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return hashTag(bytes) !== bytes;
}

/** The slot of `key` in a Redis Cluster, as `CLUSTER KEYSLOT` reports it: CRC16 of its hash tag, mod 16384. */
export function hashSlot(key: string | Buffer): number {
  return crc16(hashTag(key)) % CLUSTER_SLOTS;
}
