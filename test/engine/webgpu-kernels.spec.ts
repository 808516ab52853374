/**
 * This project's WGSL kernels on the webgpu backend (on SwiftShader where there is no GPU) against
 * tfjs' cpu backend: the three convolution products, and the fused batch norm forward and backward
 * with and without the residual add and ReLU.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { FUSED_BATCH_NORM, FUSED_BATCH_NORM_GRAD } from '@resnet/model';
import { assertClose } from '../support/assert-close';
import { webgpuForTests } from '../support/webgpu-adapter';

const TOLERANCE = 1e-4;
type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  stride: number;
  pad: 'same' | 'valid';
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 16], stride: 1, pad: 'same' },
  { x: [3, 9, 7, 16], filter: [3, 3, 16, 32], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 16], filter: [1, 1, 16, 32], stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 32], filter: [3, 3, 32, 64], stride: 1, pad: 'same' },
  { x: [1, 11, 11, 8], filter: [5, 5, 8, 24], stride: 2, pad: 'valid' },
  // A reduction long enough to split the filter gradient into partial GEMMs.
  { x: [4, 32, 32, 16], filter: [3, 3, 16, 16], stride: 1, pad: 'same' },
];

/** Values in [-1, 1) from a seeded LCG, the same whichever backend is active. */
function random(shape: number[], seed: number): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

async function on<T extends tf.Tensor | tf.Tensor[]>(backend: string, f: () => T): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = (await Promise.all(list.map((t) => t.data()))) as Float32Array[];
  tf.dispose(list);
  return values;
}

/** y = act(bn(x) + residual) in unfused tfjs ops, differentiated by tfjs: the reference. */
function referenceBatchNorm(relu: boolean, withResidual: boolean) {
  return (x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D, residual: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    let y = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), scale), offset);
    if (withResidual) y = tf.add(y, residual);
    return { y: relu ? tf.relu(y) : y, mean, variance };
  };
}

describe('WebGPU kernels against the cpu backend', function () {
  before(async function () {
    await tf.setBackend('cpu');
    const adapter = await webgpuForTests(this);
    console.log(`      adapter: ${adapter.description}${adapter.isFallbackAdapter ? ' (fallback)' : ''}`);
  });

  after(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of CONV_CASES) {
    const name = `x ${c.x.join('×')}, filter ${c.filter.join('×')}, stride ${c.stride}, ${c.pad}`;
    it(`Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter: ${name}`, async () => {
      const xv = random(c.x, 1);
      const wv = random(c.filter, 2);
      const products = () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, c.filter);
        const y = tf.conv2d(x, w, c.stride, c.pad);
        const dy = tf.tensor4d(random(y.shape, 3), y.shape as Shape4);
        const dx = tf.conv2dTranspose(dy, w, c.x, c.stride, c.pad);
        const dw = tf.grad((filter) =>
          tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, c.stride, c.pad), dy)),
        )(w);
        return [y, dx, dw];
      };
      const expected = await on('cpu', products);
      const actual = await on('webgpu', products);
      assertClose('Conv2D', actual[0], expected[0], TOLERANCE);
      assertClose('Conv2DBackpropInput', actual[1], expected[1], TOLERANCE);
      assertClose('Conv2DBackpropFilter', actual[2], expected[2], TOLERANCE);
    });
  }

  for (const relu of [false, true]) {
    for (const withResidual of [false, true]) {
      const shape: Shape4 = withResidual ? [4, 8, 8, 32] : [16, 16, 16, 16];
      it(`${FUSED_BATCH_NORM} and ${FUSED_BATCH_NORM_GRAD}: relu ${relu}, residual ${withResidual}, ${shape.join('×')}`, async () => {
        const channels = shape[3];
        // A large mean on purpose: the variance must not lose its precision to it.
        const xv = random(shape, 4).map((v) => 3 * v + 20);
        const scaleValues = random([channels], 5);
        const offsetValues = random([channels], 6);
        const residualValues = random(shape, 7);
        const dyValues = random(shape, 8);
        const inputs = () => ({
          x: tf.tensor4d(xv, shape),
          scale: tf.tensor1d(scaleValues),
          offset: tf.tensor1d(offsetValues),
          residual: tf.tensor4d(residualValues, shape),
          dy: tf.tensor4d(dyValues, shape),
        });
        const expected = await on('cpu', () => {
          const { x, scale, offset, residual, dy } = inputs();
          const forward = referenceBatchNorm(relu, withResidual);
          const { y, mean, variance } = forward(x, scale, offset, residual);
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, o: tf.Tensor, r?: tf.Tensor) =>
            tf.sum(
              tf.mul(
                forward(a as tf.Tensor4D, b as tf.Tensor1D, o as tf.Tensor1D, (r ?? residual) as tf.Tensor4D)
                  .y,
                dy,
              ),
            ),
          )(withResidual ? [x, scale, offset, residual] : [x, scale, offset]);
          return [y, mean, variance, ...grads];
        });
        const actual = await on('webgpu', () => {
          const { x, scale, offset, residual, dy } = inputs();
          const attrs = { epsilon: 1e-5, relu };
          const [y, mean, variance] = tf
            .engine()
            .runKernel(
              FUSED_BATCH_NORM,
              withResidual ? { x, scale, offset, residual } : { x, scale, offset },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
          const grads = tf.engine().runKernel(FUSED_BATCH_NORM_GRAD, { dy, x, scale, mean, variance, y }, {
            ...attrs,
            residual: withResidual,
          } as unknown as tf.NamedAttrMap) as tf.Tensor[];
          return [y, mean, variance, ...grads];
        });
        const names = ['y', 'mean', 'variance', 'dx', 'dScale', 'dOffset', 'dResidual'];
        for (let i = 0; i < (withResidual ? 7 : 6); i++)
          assertClose(names[i], actual[i], expected[i], TOLERANCE);
      });
    }
  }
});
