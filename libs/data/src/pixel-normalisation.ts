/**
 * value = (byte/255 - mean[c]) / std[c] for every byte and channel, so the per-pixel work is a
 * table lookup. Entry c*256 (byte 0) is also what zero padding normalises to.
 */
export function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== 3 || std.length !== 3 || !std.every((s) => s > 0)) {
    throw new RangeError(
      `mean and std need 3 channel values with std > 0, got mean [${mean.join(', ')}], std [${std.join(', ')}]`,
    );
  }
  const lookup = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lookup[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  }
  return lookup;
}

/**
 * Writes one output image: out(y, x) = padded(y + offsetY, x' + offsetX) with x' = width-1-x when
 * flipped, where padded() is 0 outside the source. This is torchvision's RandomCrop(padding) then
 * RandomHorizontalFlip.
 */
export function copyNormalised(
  source: Uint8Array,
  sourceStart: number,
  target: Float32Array,
  targetStart: number,
  height: number,
  width: number,
  offsetY: number,
  offsetX: number,
  flip: boolean,
  lookup: Float32Array,
): void {
  const zeroR = lookup[0],
    zeroG = lookup[256],
    zeroB = lookup[512];
  let out = targetStart;
  for (let y = 0; y < height; y++) {
    const sourceY = y + offsetY;
    const rowInside = sourceY >= 0 && sourceY < height;
    const rowStart = sourceStart + sourceY * width * 3;
    for (let x = 0; x < width; x++, out += 3) {
      const sourceX = (flip ? width - 1 - x : x) + offsetX;
      if (rowInside && sourceX >= 0 && sourceX < width) {
        const from = rowStart + sourceX * 3;
        target[out] = lookup[source[from]];
        target[out + 1] = lookup[256 + source[from + 1]];
        target[out + 2] = lookup[512 + source[from + 2]];
      } else {
        target[out] = zeroR;
        target[out + 1] = zeroG;
        target[out + 2] = zeroB;
      }
    }
  }
}
