import * as assert from 'node:assert/strict';
import { VectorKernels } from '@resnet/optimizer';

/** Deterministic values spanning many magnitudes and both signs, so roundings differ value to value. */
function values(n: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4));
}

// More than two chunks of 8192 values and a tail that is not a whole SIMD vector.
const LENGTHS = [1, 3, 4, 7, 8192, 2 * 8192 + 5];

describe('VectorKernels (WebAssembly SIMD)', () => {
  const kernels = VectorKernels.get();

  it('addInto equals the float64 loop bitwise', () => {
    for (const n of LENGTHS) {
      const sum = Float64Array.from(values(n, 1));
      const expected = Float64Array.from(sum);
      const x = values(n, 2);
      for (let i = 0; i < n; i++) expected[i] += x[i];
      kernels.addInto(sum, x);
      assert.deepEqual(sum, expected, `n = ${n}`);
    }
  });

  it('divideInto equals sum / divisor rounded to float32, bitwise', () => {
    for (const n of LENGTHS) {
      const sum = Float64Array.from(values(n, 3), (v) => v * 1.000000123);
      const out = new Float32Array(n);
      kernels.divideInto(out, sum, 96);
      assert.deepEqual(
        out,
        Float32Array.from(sum, (v) => v / 96),
        `n = ${n}`,
      );
    }
  });

  it('adds into and divides a float64Vector where it lies, bitwise as the float64 loops', () => {
    for (const n of LENGTHS) {
      const sum = VectorKernels.float64Vector(n);
      assert.deepEqual(sum, new Float64Array(n), `n = ${n}: starts at zero`);
      const expected = new Float64Array(n);
      for (const seed of [7, 8, 9]) {
        const x = values(n, seed);
        for (let i = 0; i < n; i++) expected[i] += x[i];
        kernels.addInto(sum, x);
      }
      assert.deepEqual(sum, expected, `n = ${n}`);
      const out = new Float32Array(n);
      kernels.divideInto(out, sum, 96);
      assert.deepEqual(
        out,
        Float32Array.from(expected, (v) => v / 96),
        `n = ${n}`,
      );
    }
    // Two vectors live in memories of their own: adding into one leaves the other alone.
    const [a, b] = [VectorKernels.float64Vector(5), VectorKernels.float64Vector(5)];
    kernels.addInto(a, Float32Array.from([1, 2, 3, 4, 5]));
    assert.deepEqual(b, new Float64Array(5));
    assert.deepEqual(a, Float64Array.from([1, 2, 3, 4, 5]));
  });

  for (const nesterov of [false, true]) {
    it(`sgdStep equals the scalar float64 formula bitwise (nesterov ${nesterov})`, () => {
      for (const n of LENGTHS) {
        const w = values(n, 4);
        const g = values(n, 5);
        const v = values(n, 6);
        const [lr, mu, wd] = [0.1, 0.9, 1e-4];
        const ew = Float32Array.from(w);
        const ev = Float32Array.from(v);
        for (let i = 0; i < n; i++) {
          const d = g[i] + wd * ew[i];
          const vel = mu * ev[i] + d;
          ev[i] = vel;
          ew[i] -= lr * (nesterov ? d + mu * vel : vel);
        }
        assert.equal(kernels.sgdStep(w, g, v, lr, mu, wd, nesterov), true);
        assert.deepEqual(w, ew, `weights, n = ${n}`);
        assert.deepEqual(v, ev, `velocity, n = ${n}`);
      }
    });
  }

  it('sgdStep reports a weight or velocity that became non-finite', () => {
    const n = 2 * 8192 + 5;
    const g = new Float32Array(n);
    g[n - 1] = 3e38; // the velocity (and the weight) overflow float32 in the last, partial chunk
    assert.equal(kernels.sgdStep(new Float32Array(n), g, new Float32Array(n), 10, 0.9, 0, false), false);
    assert.equal(
      kernels.sgdStep(new Float32Array(n), new Float32Array(n), new Float32Array(n), 10, 0.9, 0, false),
      true,
    );
  });

  it('allFinite finds a NaN or an infinity anywhere, and padding never counts', () => {
    for (const n of LENGTHS) {
      const x = values(n, 7);
      assert.equal(kernels.allFinite(x), true, `n = ${n}`);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, n - 1, Math.floor(n / 2)]) {
          const y = Float32Array.from(x);
          y[at] = bad;
          assert.equal(kernels.allFinite(y), false, `${bad} at ${at} of ${n}`);
        }
      }
    }
  });

  it('refuses operands of different lengths', () => {
    assert.throws(() => kernels.addInto(new Float64Array(4), new Float32Array(5)), /lengths differ: 4 and 5/);
  });
});
