/**
 * The onednn backend at bf16 precision: its convolutions and matrix products must stay within the
 * error bound that bfloat16's 8-bit significand allows of the cpu backend's float32 results (and
 * really compute in bf16: not bit for bit float32), and 3 SGD steps of ResNet-20 in bf16 must
 * follow float32's loss. Skipped, saying why, where the addon is not built or the CPU has no
 * native bf16.
 */
import * as assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { BackendUnavailableError, setComputePrecision } from '@resnet/engine';
import { Precision } from '@resnet/protocol';

import { loadOnednnAddon } from '../../libs/engine/src/kernels/onednn/native-addon';
import { NATIVE_BF16, requireDependency } from '../support/optional-dependency';
import { registerOnednnBackend } from '../../libs/engine/src/kernels/onednn/register-onednn-backend';
import { convPasses, convShapes, describeConv, NHWC_CONV_CASES } from './conv-cases';
import { seededNormal } from './seeded-data';
import { assertNoLeakOverATrainingStep, lossesOver3Steps } from './training-steps';

const addonLoad = loadOnednnAddon();
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * bf16 keeps 8 significant bits, so rounding a float32 to it errs by at most u = 2^-8 relative.
 * A product of two rounded operands then errs by at most (1 + u)² − 1 = 2u + u² relative; adding
 * K products in float32 errs by at most K·2^-24 of Σ|a·b|, in the bf16 kernel and in the float32
 * reference alike. So each output element lies within
 *   (2u + u² + 2·K·2^-24) · Σ|a|·|b|
 * of the float32 result, where Σ|a|·|b| is the same op on the operands' magnitudes. A result
 * stored in bf16 (a forward convolution's, as under autocast) is rounded once more: u·|result|,
 * and |result| ≤ Σ|a|·|b|, so one more u.
 */
const BF16_UNIT_ROUNDOFF = 2 ** -8;
function bf16Bound(reductionLength: number, storedInBf16 = false): number {
  const u = BF16_UNIT_ROUNDOFF;
  return 2 * u + u * u + 2 * reductionLength * 2 ** -24 + (storedInBf16 ? u * (1 + 2 * u) : 0);
}

function assertWithinBf16Bound(
  what: string,
  got: Float32Array,
  want: Float32Array,
  magnitudes: Float32Array,
  reductionLength: number,
  storedInBf16 = false,
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const bound = bf16Bound(reductionLength, storedInBf16);
  for (let i = 0; i < got.length; i++) {
    const error = Math.abs(got[i] - want[i]);
    assert.ok(
      error <= bound * magnitudes[i],
      `${what}: element ${i} is ${got[i]}, float32 gives ${want[i]}; |error| ${error} > ${bound} x ${magnitudes[i]}`,
    );
  }
}

/** Not bit for bit the float32 result: the kernel really computed in bf16. */
function assertNotFloat32(what: string, got: Float32Array, float32: Float32Array): void {
  assert.ok(
    got.some((v, i) => v !== float32[i]),
    `${what}: bf16 result equals float32 bit for bit`,
  );
}

async function run(backend: string, precision: Precision, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  setComputePrecision(precision);
  try {
    const out = tf.tidy(fn);
    const values = out.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(out);
    return values;
  } finally {
    setComputePrecision('fp32');
  }
}

describe('onednn backend in bf16', function () {
  let previousBackend: string;

  before(function () {
    previousBackend = tf.getBackend();
    if (addonLoad.addon) registerOnednnBackend(1);
  });

  beforeEach(function () {
    requireDependency(this, NATIVE_BF16);
  });

  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  describe('convolutions stay within the bf16 bound of the cpu backend', () => {
    NHWC_CONV_CASES.forEach((c, i) => {
      it(describeConv(c), async () => {
        const { xShape, wShape, yShape } = convShapes(c);
        const [x, w, dy] = [xShape, wShape, yShape].map((s, k) => seededNormal(300 + 10 * i + k, size(s)));
        const passes = (vx: Float32Array, vw: Float32Array, vdy: Float32Array) => (): tf.Tensor[] =>
          convPasses(c, vx, vw, vdy);
        const abs = (v: Float32Array): Float32Array => v.map(Math.abs);
        const bf16 = await run('onednn', 'bf16', passes(x, w, dy));
        const float32 = await run('onednn', 'fp32', passes(x, w, dy));
        const want = await run('cpu', 'fp32', passes(x, w, dy));
        const magnitudes = await run('cpu', 'fp32', passes(abs(x), abs(w), abs(dy)));
        // Products summed per output element: a filter window; the output channels over a window; the batch's pixels.
        const [n, oh, ow] = yShape;
        const reductions = [c.k * c.k * c.ci, c.k * c.k * c.co, n * oh * ow];
        ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].forEach((name, k) => {
          assertWithinBf16Bound(name, bf16[k], want[k], magnitudes[k], reductions[k], name === 'Conv2D');
          assertNotFloat32(name, bf16[k], float32[k]);
        });
      });
    });

    it('tf.grads through tf.conv2d', async () => {
      const x = seededNormal(31, 2 * 9 * 9 * 8);
      const w = seededNormal(32, 3 * 3 * 8 * 8);
      const grads = (vx: Float32Array, vw: Float32Array) => (): tf.Tensor[] =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
        )([tf.tensor4d(vx, [2, 9, 9, 8]), tf.tensor4d(vw, [3, 3, 8, 8])]);
      const bf16 = await run('onednn', 'bf16', grads(x, w));
      const want = await run('cpu', 'fp32', grads(x, w));
      const magnitudes = await run('cpu', 'fp32', grads(x.map(Math.abs), w.map(Math.abs)));
      // dy is all ones (exact in bf16): dx sums a window of filter values, dW the batch's pixels.
      assertWithinBf16Bound('dx', bf16[0], want[0], magnitudes[0], 3 * 3 * 8);
      assertWithinBf16Bound('dW', bf16[1], want[1], magnitudes[1], 2 * 9 * 9);
    });
  });

  describe('matrix products stay within the bf16 bound of the cpu backend', () => {
    const PRODUCTS: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean; k: number }> =
      [
        { a: [8, 64], b: [64, 10], transposeA: false, transposeB: false, k: 64 }, // classifier forward
        { a: [8, 10], b: [64, 10], transposeA: false, transposeB: true, k: 10 }, // its input gradient
        { a: [8, 64], b: [8, 10], transposeA: true, transposeB: false, k: 8 }, // its weight gradient
        { a: [1, 5, 7], b: [3, 7, 4], transposeA: false, transposeB: false, k: 7 },
      ];
    PRODUCTS.forEach(({ a, b, transposeA, transposeB, k }, i) => {
      it(`[${a}]${transposeA ? 'ᵀ' : ''} x [${b}]${transposeB ? 'ᵀ' : ''}`, async () => {
        const [va, vb] = [seededNormal(70 + i, size(a)), seededNormal(80 + i, size(b))];
        const product = (pa: Float32Array, pb: Float32Array) => (): tf.Tensor[] => [
          tf.matMul(tf.tensor(pa, a), tf.tensor(pb, b), transposeA, transposeB),
        ];
        const [bf16] = await run('onednn', 'bf16', product(va, vb));
        const [float32] = await run('onednn', 'fp32', product(va, vb));
        const [want] = await run('cpu', 'fp32', product(va, vb));
        const [magnitudes] = await run('cpu', 'fp32', product(va.map(Math.abs), vb.map(Math.abs)));
        assertWithinBf16Bound('matMul', bf16, want, magnitudes, k);
        assertNotFloat32('matMul', bf16, float32);
      });
    });
  });

  describe('bf16 activations (a bf16 convolution stores its output in bf16, as autocast does)', () => {
    it('read as float32 everywhere: dataSync, and as the input of any other kernel', async () => {
      const x = seededNormal(41, 2 * 8 * 8 * 16);
      const w = seededNormal(42, 3 * 3 * 16 * 16);
      const [y, relu, flat] = await run('onednn', 'bf16', () => {
        const out = tf.conv2d(tf.tensor4d(x, [2, 8, 8, 16]), tf.tensor4d(w, [3, 3, 16, 16]), 1, 'same');
        return [out, tf.relu(out), tf.reshape(out, [-1])];
      });
      assert.equal(y.length, 2 * 8 * 8 * 16);
      // Each value is a bf16 value: its low 16 bits are zero.
      assert.ok(
        new Uint32Array(y.buffer).every((bits) => (bits & 0xffff) === 0),
        'values are not bf16',
      );
      assert.deepEqual(
        relu,
        y.map((v) => Math.max(v, 0)),
      );
      assert.deepEqual(flat, y);
    });

    it('leak no tensors or buffers over a bf16 training step', async () => {
      await tf.setBackend('onednn');
      await assertNoLeakOverATrainingStep('bf16');
    });
  });

  it('only the onednn backend takes bf16: the cpu backend refuses it, naming the fix', async () => {
    await tf.setBackend('cpu');
    assert.throws(
      () => setComputePrecision('bf16'),
      (err: Error) => {
        assert.ok(err instanceof BackendUnavailableError);
        assert.match(err.message, /bf16 needs the onednn backend; the active backend is cpu/);
        return true;
      },
    );
  });

  describe('ResNet-20 training in bf16 follows float32', () => {
    it('loss over 3 SGD steps (batch 8, 8x8 images, lr 0.02) agrees with the float32 job', async () => {
      const float32 = await lossesOver3Steps('onednn', 'fp32', 0.02);
      const bf16 = await lossesOver3Steps('onednn', 'bf16', 0.02);
      const relative = bf16.map((loss, step) => Math.abs(loss - float32[step]) / Math.abs(float32[step]));
      const report = `bf16 losses ${bf16.join(', ')}; float32 ${float32.join(', ')}`;
      // Step 0 is one forward pass from the same weights: each convolution's output is within a few
      // roundings (u = 2^-8) of float32's and batch norm re-normalises after each, so the loss is
      // too: 4u. Each SGD step then moves the weights by lr x a gradient with the same relative
      // error, and the trajectories part a little more each step (the loss falls 4-fold in 3 steps
      // here): 5e-2, against about 1e-2 measured on an AMX CPU.
      assert.ok(relative[0] <= 4 * 2 ** -8, `step 0 relative ${relative[0]}: ${report}`);
      relative.forEach((r, step) => assert.ok(r <= 5e-2, `step ${step} relative ${r}: ${report}`));
      bf16
        .slice(1)
        .forEach((loss, step) => assert.ok(loss < bf16[step], `loss rose at step ${step + 1}: ${report}`));
      // Bit for bit equal would mean the steps never ran in bf16.
      assert.notEqual(bf16[0], float32[0], `bf16 equals float32 bit for bit: ${report}`);
    });
  });
});
