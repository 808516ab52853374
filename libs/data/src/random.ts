/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, passes PractRand/BigCrush-lite, and is a handful of
 * integer ops per draw, which matters because augmentation draws for every training sample.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n) for n <= 2^32 (the bias of scaling a 32-bit draw is below 2^-32 * n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/**
 * Mixes integers into one 32-bit seed with the MurmurHash3 block mix and finalizer, so nearby
 * inputs (epoch 1 vs 2, sample 7 vs 8) give unrelated PRNG streams. Each input is taken as a
 * 64-bit value (low and high words), so large seeds such as Date.now() are not truncated.
 */
export function hashSeed(...ints: number[]): number {
  let hash = 0x9e3779b9;
  for (const value of ints) {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`hashSeed takes safe integers, got ${value}`);
    }
    hash = murmurMix(hash, value >>> 0);
    hash = murmurMix(hash, Math.floor(value / 4294967296) >>> 0);
  }
  return murmurFinalize(hash ^ (ints.length * 8)) >>> 0;
}

/**
 * A permutation of 0..n-1 that depends only on (seed, epoch): every worker that knows the run
 * seed can reproduce any epoch's sample order without it being sent over the wire.
 */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = mulberry32(hashSeed(seed, epoch));
  // Fisher-Yates: each of the n! orders is equally likely.
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

function murmurMix(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function murmurFinalize(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
