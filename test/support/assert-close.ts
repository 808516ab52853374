import * as assert from 'node:assert/strict';

/**
 * Asserts that `actual` matches `expected` to within `tolerance` relative to the largest
 * magnitude in `expected` (absolute below 1), and that it holds no non-finite value.
 */
export function assertClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  assert.ok(Number.isFinite(maxDiff), `${what}: non-finite values`);
  assert.ok(
    maxDiff <= tolerance * Math.max(1, maxRef),
    `${what}: max |diff| ${maxDiff} (max |ref| ${maxRef})`,
  );
}
