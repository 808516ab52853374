/**
 * The XNNPACK-backed wasm Conv2DBackpropInput / Conv2DBackpropFilter kernels
 * must match tfjs' reference cpu kernels on the same inputs, free every
 * intermediate, and make tf.grads through conv2d work end to end on wasm.
 */
import * as assert from 'node:assert/strict';

// The union package registers every op's gradient (tfjs-core alone registers none).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import { wasmConv2DBackpropFilterConfig } from '../../libs/engine/src/kernels/wasm/conv2d-backprop-filter';
import { wasmConv2DBackpropInputConfig } from '../../libs/engine/src/kernels/wasm/conv2d-backprop-input';
import { registerWasmTrainingKernels } from '../../libs/engine/src/kernels/wasm/register-training-kernels';
import { assertClose } from '../support/assert-close';
import { ConvCase, convShapes, describeConv, explicitPad } from './conv-cases';

type Shape4 = [number, number, number, number];

const CASES: ConvCase[] = [
  { batch: 1, h: 7, w: 7, ci: 3, co: 16, k: 3, strides: 1, pad: 'same' },
  { batch: 5, h: 9, w: 5, ci: 16, co: 32, k: 3, strides: 2, pad: 'same' },
  { batch: 5, h: 9, w: 5, ci: 3, co: 16, k: 1, strides: 2, pad: 'valid' }, // dx: crops dilated dy
  { batch: 1, h: 7, w: 7, ci: 16, co: 32, k: 1, strides: 1, pad: 'valid' },
  { batch: 5, h: 7, w: 7, ci: 3, co: 16, k: 3, strides: 2, pad: 'valid' },
  { batch: 1, h: 8, w: 8, ci: 16, co: 32, k: 3, strides: 2, pad: 'valid' }, // dW: zero-extends dy
  { batch: 5, h: 9, w: 5, ci: 16, co: 32, k: 3, strides: 1, pad: explicitPad([1, 2], [0, 1]) },
  { batch: 5, h: 8, w: 8, ci: 3, co: 16, k: 3, strides: 2, pad: explicitPad([1, 1], [1, 1]) },
  { batch: 1, h: 7, w: 7, ci: 16, co: 16, k: 1, strides: 1, pad: explicitPad([1, 2], [2, 0]) }, // pad > k-1
  { batch: 1, h: 9, w: 5, ci: 3, co: 16, k: 3, strides: 2, pad: 1 },
  { batch: 5, h: 8, w: 6, ci: 16, co: 32, k: 1, strides: 2, pad: 'same' }, // ResNet shortcut; dW: zero-extends dy
  { batch: 1, h: 9, w: 5, ci: 3, co: 16, k: 3, strides: [2, 1], pad: 'same' },
  { batch: 5, h: 7, w: 7, ci: 1, co: 8, k: 3, strides: 2, pad: 'same' },
  { batch: 1, h: 9, w: 9, ci: 3, co: 8, k: 5, strides: 2, pad: 'same' },
];

/** Deterministic N(0,1) samples (mulberry32 + Box-Muller), backend-independent. */
function seededNormal(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

interface CaseData {
  xShape: Shape4;
  wShape: Shape4;
  dyShape: Shape4;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
}

function makeData(c: ConvCase, seed: number): CaseData {
  const { xShape, wShape, yShape: dyShape } = convShapes(c);
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  return {
    xShape,
    wShape,
    dyShape,
    x: seededNormal(seed * 3 + 1, size(xShape)),
    w: seededNormal(seed * 3 + 2, size(wShape)),
    dy: seededNormal(seed * 3 + 3, size(dyShape)),
  };
}

function attrs(extra: Record<string, unknown>, c: ConvCase): tf.NamedAttrMap {
  return {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    ...extra,
  } as unknown as tf.NamedAttrMap;
}

/** dx and dW via the registered kernels of the current backend. */
function backpropKernels(c: ConvCase, d: CaseData): { dx: Float32Array; dw: Float32Array } {
  const x = tf.tensor4d(d.x, d.xShape);
  const w = tf.tensor4d(d.w, d.wShape);
  const dy = tf.tensor4d(d.dy, d.dyShape);
  const dx = tf
    .engine()
    .runKernel<tf.Tensor>('Conv2DBackpropInput', { dy, filter: w }, attrs({ inputShape: d.xShape }, c));
  const dw = tf
    .engine()
    .runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, attrs({ filterShape: d.wShape }, c));
  assert.deepEqual(dx.shape, d.xShape);
  assert.deepEqual(dw.shape, d.wShape);
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, dy, dx, dw]);
  return out;
}

/** dx and dW via tf.grads of conv2d (seeded with dy) on the current backend. */
function backpropGrads(c: ConvCase, d: CaseData): { dx: Float32Array; dw: Float32Array } {
  const x = tf.tensor4d(d.x, d.xShape);
  const w = tf.tensor4d(d.w, d.wShape);
  const dy = tf.tensor4d(d.dy, d.dyShape);
  const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
  const [dx, dw] = tf.grads(f)([x, w], dy);
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, dy, dx, dw]);
  return out;
}

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return fn();
}

/** One test per case: `gradients` gives the same dx and dW on wasm as on cpu. */
function itMatchesCpu(
  cases: ConvCase[],
  firstSeed: number,
  gradients: (c: ConvCase, d: CaseData) => { dx: Float32Array; dw: Float32Array },
): void {
  cases.forEach((c, i) => {
    it(describeConv(c), async () => {
      const d = makeData(c, firstSeed + i);
      const ref = await onBackend('cpu', () => gradients(c, d));
      const got = await onBackend('wasm', () => gradients(c, d));
      assertClose('dx', got.dx, ref.dx, 1e-4);
      assertClose('dW', got.dw, ref.dw, 1e-4);
    });
  });
}

function wasmDataIds(): number {
  return tf.engine().backend.numDataIds();
}

describe('wasm Conv2D backprop kernels (XNNPACK rewrites)', () => {
  let previousBackend: string;

  before(async () => {
    previousBackend = tf.getBackend();
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  it('registers both kernels for wasm, idempotently, replacing the stock Conv2DBackpropInput', () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    assert.equal(
      tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc,
      wasmConv2DBackpropInputConfig.kernelFunc,
    );
    assert.equal(
      tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc,
      wasmConv2DBackpropFilterConfig.kernelFunc,
    );
  });

  describe('match the cpu backend kernels', () => itMatchesCpu(CASES, 100, backpropKernels));

  describe('tf.grads through tf.conv2d on wasm matches cpu', () =>
    itMatchesCpu([CASES[1], CASES[5], CASES[7], CASES[10]], 200, backpropGrads));

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    // dilated dy, crop of dy, zero-extended dy, negative pad, 1x1 shortcut
    const cases = [CASES[1], CASES[2], CASES[5], CASES[8], CASES[10]];
    const data = cases.map((c, i) => makeData(c, 300 + i));
    const runAll = (): void => {
      cases.forEach((c, i) => {
        backpropKernels(c, data[i]);
        backpropGrads(c, data[i]);
      });
    };
    runAll(); // warm up
    const before = { ...tf.memory(), dataIds: wasmDataIds() };
    // IS_TEST makes the engine also check each kernel call for leaked data ids.
    const wasTest = tf.env().getBool('IS_TEST');
    tf.env().set('IS_TEST', true);
    try {
      runAll();
      runAll();
    } finally {
      tf.env().set('IS_TEST', wasTest);
    }
    const after = { ...tf.memory(), dataIds: wasmDataIds() };
    assert.equal(after.numTensors, before.numTensors, 'numTensors');
    assert.equal(after.numBytes, before.numBytes, 'numBytes');
    assert.equal(after.numDataBuffers, before.numDataBuffers, 'numDataBuffers');
    assert.equal(after.dataIds, before.dataIds, 'wasm backend numDataIds');
  });

  it('rejects NCHW and dilated forward convs with a clear error', async () => {
    await tf.setBackend('wasm');
    const c = CASES[0];
    const d = makeData(c, 400);
    const x = tf.tensor4d(d.x, d.xShape);
    const w = tf.tensor4d(d.w, d.wShape);
    const dy = tf.tensor4d(d.dy, d.dyShape);
    const before = wasmDataIds();
    try {
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy },
              attrs({ filterShape: d.wShape, dataFormat: 'NCHW' }, c),
            ),
        /supports only dataFormat 'NHWC'/,
      );
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: w },
              attrs({ inputShape: d.xShape, dilations: 2 }, c),
            ),
        /does not support dilations > 1/,
      );
      assert.equal(wasmDataIds(), before);
    } finally {
      tf.dispose([x, w, dy]);
    }
  });
});
