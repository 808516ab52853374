/**
 * The `onednn` backend's native kernels must match tfjs' reference cpu kernels on the same inputs,
 * training a ResNet on it must follow the cpu backend's loss, and backend selection must route
 * `auto`, `onednn` and `tensorflow` as documented. Where the addon is not built: skipped, saying
 * why, or a failure in CI (test/support/optional-dependency.ts).
 */
import * as assert from 'node:assert/strict';

// The union package registers every op's gradient (tfjs-core alone registers none).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { initComputeBackend } from '@resnet/engine';

import { loadOnednnAddon } from '../../libs/engine/src/kernels/onednn/native-addon';
import { registerOnednnBackend } from '../../libs/engine/src/kernels/onednn/register-onednn-backend';
import { registerWasmTrainingKernels } from '../../libs/engine/src/kernels/wasm/register-training-kernels';
import { assertClose } from '../support/assert-close';
import { convPasses, convShapes, describeConv, NHWC_CONV_CASES } from './conv-cases';
import { seededNormal } from './seeded-data';
import { assertNoLeakOverATrainingStep, lossesOver3Steps } from './training-steps';
import { ONEDNN_ADDON, pending, requireDependency, TFJS_NODE } from '../support/optional-dependency';

type Shape4 = [number, number, number, number];

const addonLoad = loadOnednnAddon();

function requireAddon(this: Mocha.Context): void {
  requireDependency(this, ONEDNN_ADDON);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Same values bit for bit, NaN included. */
function assertSameBits(what: string, actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const i = a.findIndex(
    (bits, k) => bits !== e[k] && !(Number.isNaN(actual[k]) && Number.isNaN(expected[k])),
  );
  assert.equal(i, -1, `${what}: element ${i} is ${actual[i]}, cpu gives ${expected[i]}`);
}

/** Runs `fn` on each backend with tensors made from the same data, returning the results' values. */
async function onBackend(name: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const out = tf.tidy(fn);
  const tensors = Array.isArray(out) ? out : [out];
  const values = tensors.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(tensors);
  return values;
}

async function againstCpu(
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ got: Float32Array[]; want: Float32Array[] }> {
  const want = await onBackend('cpu', fn);
  const got = await onBackend('onednn', fn);
  return { got, want };
}

describe('onednn backend', function () {
  let previousBackend: string;

  before(function () {
    previousBackend = tf.getBackend();
    if (addonLoad.addon) registerOnednnBackend(1);
  });

  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  describe('convolution kernels match the cpu backend', () => {
    beforeEach(requireAddon);

    NHWC_CONV_CASES.forEach((c, i) => {
      it(describeConv(c), async () => {
        const { xShape, wShape, yShape } = convShapes(c);
        const [x, w, dy] = [xShape, wShape, yShape].map((s, k) => seededNormal(100 * i + k, size(s)));
        const { got, want } = await againstCpu(() => convPasses(c, x, w, dy));
        assertClose('Conv2D', got[0], want[0], 1e-5);
        assertClose('Conv2DBackpropInput', got[1], want[1], 1e-5);
        assertClose('Conv2DBackpropFilter', got[2], want[2], 1e-5);
      });
    });

    it('tf.grads through tf.conv2d (gradients routed through the native kernels)', async () => {
      const x = seededNormal(1, 2 * 9 * 9 * 4);
      const w = seededNormal(2, 3 * 3 * 4 * 8);
      const { got, want } = await againstCpu(() => {
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
        return tf.grads(f)([tf.tensor4d(x, [2, 9, 9, 4]), tf.tensor4d(w, [3, 3, 4, 8])]);
      });
      assertClose('dx', got[0], want[0], 1e-5);
      assertClose('dW', got[1], want[1], 1e-5);
    });

    it('tf.fused.conv2d (a layers Conv2D with its bias): linear, relu, and prelu left to the cpu kernel', async () => {
      const x = seededNormal(5, 2 * 8 * 8 * 4);
      const w = seededNormal(6, 3 * 3 * 4 * 8);
      const bias = seededNormal(7, 8);
      const { got, want } = await againstCpu(() =>
        (['linear', 'relu', 'prelu'] as const).map((activation) =>
          tf.fused.conv2d({
            x: tf.tensor4d(x, [2, 8, 8, 4]),
            filter: tf.tensor4d(w, [3, 3, 4, 8]),
            strides: 1,
            pad: 'same',
            bias: tf.tensor1d(bias),
            activation,
            preluActivationWeights: activation === 'prelu' ? tf.scalar(0.1) : undefined,
          }),
        ),
      );
      assertClose('linear', got[0], want[0], 1e-5);
      assertClose('relu', got[1], want[1], 1e-5);
      assert.ok(got[1].includes(0) && got[1].some((v) => v > 0), 'relu both clipped and passed values');
      assertClose('prelu', got[2], want[2], 1e-5);
    });

    it('leaves what oneDNN is not asked to do to the cpu kernels: dilated and NCHW convolutions', async () => {
      const x = seededNormal(3, 2 * 9 * 9 * 4);
      const w = seededNormal(4, 3 * 3 * 4 * 8);
      const { got, want } = await againstCpu(() => [
        tf.conv2d(tf.tensor4d(x, [2, 9, 9, 4]), tf.tensor4d(w, [3, 3, 4, 8]), 1, 'same', 'NHWC', 2),
        tf.conv2d(tf.tensor4d(x, [2, 4, 9, 9]), tf.tensor4d(w, [3, 3, 4, 8]), 1, 'valid', 'NCHW'),
      ]);
      assertClose('dilated', got[0], want[0], 1e-5);
      assertClose('NCHW', got[1], want[1], 1e-5);
    });
  });

  describe('elementwise kernels match the cpu backend bit for bit', () => {
    beforeEach(requireAddon);

    const BROADCASTS: Array<[number[], number[]]> = [
      [
        [2, 5, 3, 16],
        [2, 5, 3, 16],
      ],
      [[2, 5, 3, 16], [16]],
      [
        [2, 5, 3, 16],
        [1, 1, 1, 16],
      ],
      [
        [2, 1, 1, 7],
        [2, 5, 3, 7],
      ],
      [[7], [3, 4, 7]],
      [
        [3, 1, 5],
        [1, 4, 1],
      ],
      [[], [4, 3]],
      [[4, 3], []],
      [
        [5, 1],
        [5, 6],
      ],
    ];
    const BINARY: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
      ['add', tf.add],
      ['sub', tf.sub],
      ['mul', tf.mul],
      ['div', tf.div],
      ['squaredDifference', tf.squaredDifference],
    ];

    BINARY.forEach(([name, op]) => {
      it(`${name} with broadcasting`, async () => {
        for (const [i, [aShape, bShape]] of BROADCASTS.entries()) {
          const a = seededNormal(10 + i, size(aShape));
          const b = seededNormal(20 + i, size(bShape));
          const { got, want } = await againstCpu(() => op(tf.tensor(a, aShape), tf.tensor(b, bShape)));
          assertSameBits(`${name} [${aShape}] [${bShape}]`, got[0], want[0]);
        }
      });
    });

    it('relu, step (with alpha) and square, NaN and signed zeros included', async () => {
      const values = Float32Array.from([...seededNormal(5, 1000), NaN, -0, 0, Infinity, -Infinity]);
      const { got, want } = await againstCpu(() => {
        const x = tf.tensor1d(values);
        return [tf.relu(x), tf.step(x), tf.step(x, 0.25), tf.square(x)];
      });
      ['relu', 'step', 'step(0.25)', 'square'].forEach((name, i) => assertSameBits(name, got[i], want[i]));
    });

    it('leaves int32 arithmetic to the cpu kernels', async () => {
      const { got, want } = await againstCpu(() =>
        tf.cast(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.scalar(4, 'int32')), 'float32'),
      );
      assertSameBits('int32 add', got[0], want[0]);
    });
  });

  describe('reductions match the cpu backend', () => {
    beforeEach(requireAddon);

    const AXES: Array<number[] | undefined> = [[0, 1, 2], [1, 2], [3], [0], [-1], undefined, [0, 2], [2, 1]];
    for (const axes of AXES) {
      it(`sum and mean over ${axes ? `[${axes}]` : 'all axes'}, with and without keepDims`, async () => {
        const x = seededNormal(7, 4 * 5 * 3 * 6);
        const { got, want } = await againstCpu(() => {
          const t = tf.tensor4d(x, [4, 5, 3, 6]);
          return [tf.sum(t, axes), tf.mean(t, axes), tf.sum(t, axes, true), tf.mean(t, axes, true)];
        });
        got.forEach((g, i) => assertClose(`reduction ${i}`, g, want[i], 1e-6));
        const shapes = await Promise.all(
          ['cpu', 'onednn'].map(async (name) => {
            await tf.setBackend(name);
            return tf.tidy(() => [
              tf.sum(tf.tensor4d(x, [4, 5, 3, 6]), axes, true).shape,
              tf.mean(tf.tensor4d(x, [4, 5, 3, 6]), axes).shape,
            ]);
          }),
        );
        assert.deepEqual(shapes[1], shapes[0]);
      });
    }

    it('a large per-channel sum stays accurate (accumulated in double)', async () => {
      const x = new Float32Array(256 * 1024).fill(0.1);
      const { got } = await againstCpu(() => tf.sum(tf.tensor2d(x, [(256 * 1024) / 16, 16]), 0));
      assertClose('sum', got[0], new Float32Array(16).fill((Math.fround(0.1) * (256 * 1024)) / 16), 1e-7);
    });
  });

  describe('matrix products match the cpu backend', () => {
    beforeEach(requireAddon);

    const PRODUCTS: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
      { a: [8, 64], b: [64, 10], transposeA: false, transposeB: false }, // classifier forward
      { a: [8, 10], b: [64, 10], transposeA: false, transposeB: true }, // its input gradient
      { a: [8, 64], b: [8, 10], transposeA: true, transposeB: false }, // its weight gradient
      { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
      { a: [3, 5, 7], b: [7, 4], transposeA: false, transposeB: false },
      { a: [2, 3, 5, 7], b: [2, 3, 7, 4], transposeA: false, transposeB: false },
      { a: [1, 5, 7], b: [3, 7, 4], transposeA: false, transposeB: false },
    ];
    PRODUCTS.forEach(({ a, b, transposeA, transposeB }, i) => {
      it(`[${a}]${transposeA ? 'ᵀ' : ''} x [${b}]${transposeB ? 'ᵀ' : ''}`, async () => {
        const [va, vb] = [seededNormal(50 + i, size(a)), seededNormal(60 + i, size(b))];
        const { got, want } = await againstCpu(() =>
          tf.matMul(tf.tensor(va, a), tf.tensor(vb, b), transposeA, transposeB),
        );
        assertClose('matMul', got[0], want[0], 1e-5);
      });
    });
  });

  describe('max pooling matches the cpu backend bit for bit', () => {
    beforeEach(requireAddon);

    const POOLS: Array<{ shape: Shape4; size: number; stride: number; pad: 'same' | 'valid' }> = [
      { shape: [2, 12, 12, 8], size: 3, stride: 2, pad: 'same' }, // ImageNet stem
      { shape: [2, 11, 9, 5], size: 3, stride: 2, pad: 'same' },
      { shape: [1, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
      { shape: [2, 7, 7, 4], size: 3, stride: 1, pad: 'same' },
      { shape: [1, 9, 9, 2], size: 3, stride: 2, pad: 'valid' },
    ];
    POOLS.forEach(({ shape, size: k, stride, pad }, i) => {
      it(`${k}x${k} stride ${stride} ${pad} on [${shape}], forward and gradient, ties included`, async () => {
        // Whole numbers in a small range make ties within windows common.
        const x = seededNormal(30 + i, size(shape)).map((v) => Math.round(2 * v));
        const outShape = tf.backend_util.computePool2DInfo(shape, k, stride, 1, pad).outShape;
        const dy = seededNormal(40 + i, size(outShape));
        const { got, want } = await againstCpu(() => {
          const f = (t: tf.Tensor): tf.Tensor => tf.maxPool(t as tf.Tensor4D, k, stride, pad);
          const { value, grad } = tf.valueAndGrad(f)(tf.tensor4d(x, shape), tf.tensor4d(dy, outShape));
          return [value, grad];
        });
        assertSameBits('maxPool', got[0], want[0]);
        assertSameBits('maxPoolGrad', got[1], want[1]);
      });
    });

    it('NaN and -Infinity in a window', async () => {
      const x = Float32Array.from([
        NaN,
        1,
        -Infinity,
        2,
        NaN,
        NaN,
        NaN,
        NaN,
        -Infinity,
        -Infinity,
        -Infinity,
        -Infinity,
      ]);
      const { got, want } = await againstCpu(() => {
        const f = (t: tf.Tensor): tf.Tensor => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid');
        const { value, grad } = tf.valueAndGrad(f)(tf.tensor4d(x, [3, 2, 2, 1]), tf.ones([3, 1, 1, 1]));
        return [value, grad];
      });
      assertSameBits('maxPool', got[0], want[0]);
      assertSameBits('maxPoolGrad', got[1], want[1]);
    });
  });

  describe('as a backend', () => {
    beforeEach(requireAddon);

    it('leaks no tensors or buffers over a training step', async () => {
      await tf.setBackend('onednn');
      await assertNoLeakOverATrainingStep('fp32');
    });

    it('reuses an output buffer only once no tensor view and no reader can still see it', async () => {
      await tf.setBackend('onednn');
      const n = 64 * 1024; // pooled size
      const values = seededNormal(11, n);
      const relu = values.map((v) => (v > 0 ? v : 0));
      const x = tf.tensor1d(values);
      const churn = (): void => {
        for (let i = 0; i < 8; i++) tf.dispose(tf.tidy(() => tf.square(tf.add(x, i))));
      };
      const y = tf.relu(x);
      const view = tf.slice(y, [n / 4], [n / 2]); // the cpu backend's Slice returns a view of y's buffer
      y.dispose();
      churn();
      assertSameBits(
        'slice of a disposed native output',
        view.dataSync() as Float32Array,
        relu.subarray(n / 4, (3 * n) / 4),
      );
      view.dispose();
      const z = tf.relu(x);
      const read = z.dataSync() as Float32Array;
      z.dispose();
      churn();
      assertSameBits('values read before dispose', read, relu);
      x.dispose();
    });

    it('gives the same results with 2 threads as with 1 (elementwise bit for bit, convolutions to rounding)', async () => {
      await tf.setBackend('onednn');
      // Big enough for the elementwise loops to go parallel.
      const x = seededNormal(8, 8 * 16 * 16 * 32);
      const w = seededNormal(9, 3 * 3 * 32 * 32);
      const run = (): Float32Array[] =>
        tf.tidy(() => {
          const tx = tf.tensor4d(x, [8, 16, 16, 32]);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
          )([tx, tf.tensor4d(w, [3, 3, 32, 32])]);
          return [tf.relu(tf.sub(tx, tf.mean(tx, [0, 1, 2]))), dx, dw].map((t) =>
            Float32Array.from(t.dataSync()),
          );
        });
      const one = run();
      try {
        assert.equal(registerOnednnBackend(2).threads, 2);
        const two = run();
        assertSameBits('elementwise', two[0], one[0]);
        assertClose('dx', two[1], one[1], 1e-6);
        assertClose('dW', two[2], one[2], 1e-6);
      } finally {
        registerOnednnBackend(1);
      }
    });
  });

  describe('ResNet-20 training follows the cpu backend', () => {
    it('loss over 3 SGD steps (batch 8, 8x8 images) within 1e-4 relative', async function () {
      // Without the addon the wasm backend stands in, so this still checks the training path.
      const backend = addonLoad.addon ? 'onednn' : 'wasm';
      if (!addonLoad.addon) registerWasmTrainingKernels();
      const reference = await lossesOver3Steps('cpu');
      const losses = await lossesOver3Steps(backend);
      reference.forEach((want, step) => {
        const relative = Math.abs(losses[step] - want) / Math.abs(want);
        assert.ok(
          relative <= 1e-4,
          `${backend} loss ${losses[step]} vs cpu ${want} at step ${step} (relative ${relative})`,
        );
      });
    });
  });

  describe('backend selection', () => {
    it('auto picks onednn when the addon loads and libtensorflow is absent, naming the ISA', async function () {
      requireAddon.call(this);
      if (TFJS_NODE.missing() === null)
        pending(this, '@tensorflow/tfjs-node is installed, so auto picks tensorflow');
      const compute = await initComputeBackend('auto');
      assert.equal(compute.backend, 'onednn');
      assert.equal(tf.getBackend(), 'onednn');
      assert.match(compute.device, /\((avx|sse|isa_all)[a-z0-9_]*\)$/);
    });

    it('--backend onednn without the addon fails naming the fix', async function () {
      if (addonLoad.addon) pending(this, 'the addon is built here');
      await assert.rejects(initComputeBackend('onednn'), /apt-get install libdnnl-dev.*npm run build:native/);
    });

    it('the tensorflow route loads @tensorflow/tfjs-node', async function () {
      requireDependency(this, TFJS_NODE);
      const compute = await initComputeBackend('tensorflow');
      assert.equal(compute.backend, 'tensorflow');
      assert.equal(tf.getBackend(), 'tensorflow');
      assert.equal(
        tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]),
        6,
      );
    });
  });
});
