/** Slots of a Redis Cluster: every key belongs to one, and each master serves a range of them. */
export const CLUSTER_SLOTS = 16384;

/** CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster maps keys to slots with. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * The Redis Cluster slot of `key`, as CLUSTER KEYSLOT computes it: only the part between the
 * first `{` and the next `}` counts when that part is not empty (a hash tag), so that keys
 * sharing a tag share a slot and may meet in one script or transaction.
 */
export function hashSlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % CLUSTER_SLOTS;
  }
  return crc16(bytes) % CLUSTER_SLOTS;
}
