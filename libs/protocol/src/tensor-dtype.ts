/**
 * The number formats a tensor message can carry its values in. fp32 is exact; fp16 and bf16 halve
 * the bytes: fp16 keeps 11 significant bits over a range of ±65504, bf16 keeps 8 bits over fp32's
 * whole range. Rounding is to nearest, ties to even; finite values beyond a format's range
 * saturate at its largest finite value rather than becoming infinite, so that a rounded gradient is
 * never mistaken for a diverged one (error feedback carries the excess into the next message).
 */
export const TENSOR_DTYPES = ['fp32', 'fp16', 'bf16'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];
export type HalfDtype = Exclude<TensorDtype, 'fp32'>;

export function bytesPerValue(dtype: TensorDtype): number {
  return dtype === 'fp32' ? 4 : 2;
}

const FP16_MAX = 0x7bff;
const BF16_MAX = 0x7f7f;

/** fp32 bit pattern to fp16 bit pattern. */
function fp16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 112; // rebias from 127 to 15
  if (e >= 0x1f) return sign | FP16_MAX;
  if (e <= 0) {
    // fp16 subnormal: the value in units of 2^-24, which is the full significand shifted right.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let h = significand >>> shift;
    if (rest > halfway || (rest === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
  return sign | (h >= 0x7c00 ? FP16_MAX : h);
}

/** fp32 bit pattern to bf16 bit pattern: the upper 16 bits, rounded. */
function bf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40; // NaN stays a (quiet) NaN
  if ((x & 0x7fffffff) === 0x7f800000) return x >>> 16;
  const h = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  return (h & 0x7f80) === 0x7f80 ? (h & 0x8000) | BF16_MAX : h;
}

let fp16Table: Float32Array | null = null;

/** Every fp16 bit pattern's value, built on first use (256 KiB). */
function fp16Values(): Float32Array {
  if (fp16Table) return fp16Table;
  fp16Table = new Float32Array(0x10000);
  for (let h = 0; h < 0x10000; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    fp16Table[h] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa
            ? NaN
            : sign * Infinity
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return fp16Table;
}

/**
 * Rounds `values` into `out` (16-bit patterns). With `residual` (error feedback) each of its
 * entries is added to the matching value before rounding and then replaced by what the rounding
 * lost, so that the rounding errors of successive messages cancel instead of accumulating;
 * values past the residual's length are rounded plainly.
 */
export function roundToHalf(
  dtype: HalfDtype,
  values: Float32Array,
  out: Uint16Array,
  residual?: Float32Array,
): void {
  if (out.length !== values.length)
    throw new RangeError(`${values.length} values do not fit ${out.length} slots`);
  const withFeedback = Math.min(residual?.length ?? 0, values.length);
  // One loop per format, each calling its own rounding function, so that the compiler inlines it.
  if (dtype === 'bf16') roundToBf16(values, out, residual, withFeedback);
  else roundToFp16(values, out, residual, withFeedback);
}

function roundToBf16(
  values: Float32Array,
  out: Uint16Array,
  residual: Float32Array | undefined,
  withFeedback: number,
): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  if (residual) {
    const corrected = new Uint32Array(residual.buffer, residual.byteOffset, withFeedback);
    const widenedBits = new Uint32Array(1);
    const widened = new Float32Array(widenedBits.buffer);
    for (let i = 0; i < withFeedback; i++) {
      residual[i] += values[i]; // the corrected value, rounded to fp32 as the residual array holds it
      const h = bf16Bits(corrected[i]);
      out[i] = h;
      widenedBits[0] = h << 16;
      residual[i] -= widened[0];
    }
  }
  for (let i = withFeedback; i < values.length; i++) out[i] = bf16Bits(bits[i]);
}

function roundToFp16(
  values: Float32Array,
  out: Uint16Array,
  residual: Float32Array | undefined,
  withFeedback: number,
): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  if (residual) {
    const corrected = new Uint32Array(residual.buffer, residual.byteOffset, withFeedback);
    const widened = fp16Values();
    for (let i = 0; i < withFeedback; i++) {
      residual[i] += values[i];
      const h = fp16Bits(corrected[i]);
      out[i] = h;
      residual[i] -= widened[h];
    }
  }
  for (let i = withFeedback; i < values.length; i++) out[i] = fp16Bits(bits[i]);
}

/** Widens 16-bit patterns to fp32 values, exactly. */
export function widenFromHalf(dtype: HalfDtype, halves: Uint16Array, out: Float32Array): void {
  if (out.length !== halves.length)
    throw new RangeError(`${halves.length} values do not fit ${out.length} slots`);
  if (dtype === 'fp16') {
    const table = fp16Values();
    for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
  } else {
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  }
}
