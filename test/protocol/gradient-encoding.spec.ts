import * as assert from 'node:assert/strict';
import { architectureFor, layoutsOf } from '@resnet/model';
import { ReusableBuffer, roundToHalf, TensorCodec, widenFromHalf } from '@resnet/protocol';
import { ModelTensorCodec } from '@resnet/job';

function roundTrip(dtype: 'fp16' | 'bf16', values: number[]): number[] {
  const halves = new Uint16Array(values.length);
  roundToHalf(dtype, Float32Array.from(values), halves);
  const out = new Float32Array(values.length);
  widenFromHalf(dtype, halves, out);
  return Array.from(out);
}

describe('half-precision gradient encodings', () => {
  it('fp16 rounds to nearest even, keeps subnormals, and saturates instead of overflowing', () => {
    assert.deepEqual(roundTrip('fp16', [0, -0, 1, -2.5, 65504, 2 ** -24, 2 ** -14]), [
      0,
      -0,
      1,
      -2.5,
      65504,
      2 ** -24,
      2 ** -14,
    ]);
    assert.deepEqual(roundTrip('fp16', [1 + 2 ** -11, 1 + 3 * 2 ** -11]), [1, 1 + 2 ** -9]); // ties go to the even neighbour
    assert.deepEqual(roundTrip('fp16', [1e6, -1e6, 2 ** -26]), [65504, -65504, 0]);
    const [inf, nan] = roundTrip('fp16', [Infinity, NaN]);
    assert.equal(inf, Infinity);
    assert.ok(Number.isNaN(nan));
  });

  it('bf16 keeps fp32 range with 8 significant bits', () => {
    assert.deepEqual(roundTrip('bf16', [1, -3, 2 ** 100, 2 ** -130]), [1, -3, 2 ** 100, 2 ** -130]);
    assert.deepEqual(roundTrip('bf16', [1 + 2 ** -8, 1 + 3 * 2 ** -8]), [1, 1 + 2 ** -6]); // ties to even
    assert.equal(roundTrip('bf16', [3.4e38])[0], (2 - 2 ** -7) * 2 ** 127); // saturates at the largest finite bf16
    for (const v of [0.1, -7.25e-3, 123.456, 6.02e23, 1e30]) {
      assert.ok(Math.abs(roundTrip('bf16', [v])[0] - v) <= Math.abs(v) * 2 ** -9, `${v}`);
    }
  });

  it('carries the dtype in the message, halves its size and decodes to fp32', () => {
    const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 10 }));
    const params = Float32Array.from({ length: layouts.params.size }, (_, i) => Math.sin(i) * 1e-3);
    const state = new Float32Array(layouts.state.size).fill(0.5);
    const fp32 = ModelTensorCodec.encode(layouts, params, state, {});
    for (const dtype of ['fp16', 'bf16'] as const) {
      const message = ModelTensorCodec.encode(layouts, params, state, {}, { dtype });
      assert.ok(message.length < fp32.length * 0.51, `${dtype} message is half the size`);
      assert.equal(TensorCodec.decode(message).dtype, dtype);
      const decoded = ModelTensorCodec.decode(layouts, message);
      assert.ok(
        decoded.params.every((v, i) => Math.abs(v - params[i]) <= 1e-3 * 2 ** -7),
        `${dtype} values are close`,
      );
      const flipped = Buffer.from(message);
      flipped[flipped.length - 100] ^= 1;
      assert.throws(() => ModelTensorCodec.decode(layouts, flipped), /checksum/);
    }
    assert.equal(TensorCodec.decode(fp32).dtype, 'fp32');
  });

  it('decodes fp32 without copying, and encodes into reused memory', () => {
    const into = new ReusableBuffer();
    const first = TensorCodec.encode(
      [{ name: 'x', shape: [3] }],
      [Float32Array.from([1, 2, 3])],
      { n: 1 },
      { into },
    );
    const decoded = TensorCodec.decode(first);
    assert.equal(decoded.data.buffer, first.buffer, 'a view of the message');
    const second = TensorCodec.encode(
      [{ name: 'x', shape: [3] }],
      [Float32Array.from([4, 5, 6])],
      { n: 2 },
      { into },
    );
    assert.equal(second.buffer, first.buffer, 'the same memory again');
    assert.deepEqual(Array.from(TensorCodec.decode(second).data), [4, 5, 6]);
  });

  for (const dtype of ['fp16', 'bf16'] as const) {
    it(`${dtype} error feedback keeps the rounding error of many messages within one rounding step`, () => {
      // Values that rounding always pushes the same way: without feedback the error grows with every message.
      const gradient = Float32Array.from({ length: 1000 }, (_, i) => 1 + (1 + (i % 7)) * 2 ** -12);
      const residual = new Float32Array(gradient.length);
      const messages = 200;
      const sent = { plain: new Float64Array(gradient.length), feedback: new Float64Array(gradient.length) };
      for (let m = 0; m < messages; m++) {
        for (const [kind, options] of [
          ['plain', { dtype }],
          ['feedback', { dtype, residual }],
        ] as const) {
          const { data } = TensorCodec.decode(
            TensorCodec.encode([{ name: 'g', shape: [gradient.length] }], [gradient], {}, options),
          );
          data.forEach((v, i) => (sent[kind][i] += v));
        }
      }
      const worst = (kind: 'plain' | 'feedback') =>
        Math.max(...gradient.map((g, i) => Math.abs(sent[kind][i] - messages * g)));
      const step = dtype === 'fp16' ? 2 ** -10 : 2 ** -7; // spacing of representable values near 1
      assert.ok(
        worst('feedback') <= step,
        `with feedback the total is off by ${worst('feedback')}, more than one step ${step}`,
      );
      assert.ok(
        worst('plain') > 10 * step,
        `without feedback the error should accumulate (${worst('plain')})`,
      );
    });
  }
});
