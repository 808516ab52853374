/**
 * The fused batch-norm training op (libs/model/src/ops/fused-batch-norm.ts): each backend's
 * ResnetFusedBatchNorm and ResnetFusedBatchNormGrad kernels against the reference tfjs ops on the
 * cpu backend, with and without ReLU and residual, and a ResNet training step with the fused op
 * against the same network built from separate, autodiffed ops.
 */
import * as assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {
  architectureFor,
  BATCH_NORM_EPSILON,
  BatchStatsSink,
  convolutions,
  convPadding,
  crossEntropySum,
  FUSED_BATCH_NORM,
  FUSED_BATCH_NORM_GRAD,
  fusedBatchNorm,
  initialWeights,
  layoutsOf,
  referenceFusedBatchNorm,
  referenceFusedBatchNormGrad,
  resnetGraph,
  resnetLogits,
  tensorResNetOps,
} from '@resnet/model';

import { loadOnednnAddon } from '../../libs/engine/src/kernels/onednn/native-addon';
import { registerOnednnBackend } from '../../libs/engine/src/kernels/onednn/register-onednn-backend';
import { registerWasmTrainingKernels } from '../../libs/engine/src/kernels/wasm/register-training-kernels';
import { assertClose } from '../support/assert-close';
import { ONEDNN_ADDON, OptionalDependency, requireDependency } from '../support/optional-dependency';
import { seededNormal, seededUniform } from './seeded-data';

type Shape4 = [number, number, number, number];

const addonLoad = loadOnednnAddon();

/** Backends with native fused kernels to check, each with why it is absent when it is. */
const KERNEL_BACKENDS: Array<{ name: string; dependency: OptionalDependency | null }> = [
  { name: 'onednn', dependency: ONEDNN_ADDON },
  { name: 'wasm', dependency: null },
];

const CASES: Array<{ shape: Shape4; relu: boolean; residual: boolean }> = [
  { shape: [2, 5, 3, 16], relu: false, residual: false },
  { shape: [2, 5, 3, 16], relu: true, residual: false },
  { shape: [3, 4, 4, 8], relu: false, residual: true },
  { shape: [3, 4, 4, 8], relu: true, residual: true },
  // Several summation blocks of the onednn kernels and staged chunks of the wasm kernels, a
  // channel count that is not a multiple of 4, a last chunk that is not a whole period.
  { shape: [5, 29, 29, 3], relu: true, residual: true },
];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface CaseData {
  x: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  residual: Float32Array;
  dy: Float32Array;
}

function caseData(shape: Shape4, seed: number): CaseData {
  const channels = shape[3];
  // An offset mean, as convolution outputs have: the one-pass variance must not cancel.
  const x = seededNormal(seed, size(shape)).map((v, i) => 3 * v + 5 + (i % channels));
  return {
    x,
    scale: seededNormal(seed + 1, channels).map((v) => 1 + 0.5 * v),
    offset: seededNormal(seed + 2, channels),
    residual: seededNormal(seed + 3, size(shape)),
    dy: seededNormal(seed + 4, size(shape)),
  };
}

async function values(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const result = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return result;
}

/** Forward outputs, then gradient outputs, of the kernels (or the reference where `reference`). */
function kernelOutputs(
  d: CaseData,
  shape: Shape4,
  relu: boolean,
  residual: boolean,
  reference: boolean,
): tf.Tensor[] {
  const channels = shape[3];
  const x = tf.tensor4d(d.x, shape);
  const scale = tf.tensor1d(d.scale);
  const offset = tf.tensor1d(d.offset);
  const res = residual ? tf.tensor4d(d.residual, shape) : undefined;
  const dy = tf.tensor4d(d.dy, shape);
  const attrs = { epsilon: BATCH_NORM_EPSILON, relu };
  const gradAttrs = { ...attrs, residual };
  if (reference) {
    const [y, mean, variance] = referenceFusedBatchNorm(x, scale, offset, res, attrs);
    return [y, mean, variance, ...referenceFusedBatchNormGrad(dy, x, scale, mean, variance, y, gradAttrs)];
  }
  const engine = tf.engine();
  const forward = engine.runKernel(
    FUSED_BATCH_NORM,
    res ? { x, scale, offset, residual: res } : { x, scale, offset },
    attrs as never,
  ) as tf.Tensor[];
  const [y, mean, variance] = forward;
  const grads = engine.runKernel(
    FUSED_BATCH_NORM_GRAD,
    { dy, x, scale, mean, variance, y },
    gradAttrs as never,
  ) as tf.Tensor[];
  if (mean.shape[0] !== channels) throw new Error(`mean has shape [${mean.shape}]`);
  return [...forward, ...grads];
}

const OUTPUT_NAMES = ['y', 'mean', 'variance', 'dx', 'dScale', 'dOffset', 'dResidual'];

describe('fused batch norm', function () {
  let previousBackend: string;

  before(function () {
    previousBackend = tf.getBackend();
    registerWasmTrainingKernels();
    if (addonLoad.addon) registerOnednnBackend(1);
  });

  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  for (const backend of KERNEL_BACKENDS) {
    describe(`${backend.name} kernels match the reference ops on the cpu backend`, () => {
      beforeEach(function () {
        if (backend.dependency) requireDependency(this, backend.dependency);
      });

      CASES.forEach(({ shape, relu, residual }, i) => {
        it(`[${shape}]${relu ? ' relu' : ''}${residual ? ' residual' : ''}: forward and gradients`, async () => {
          const d = caseData(shape, 10 * i);
          const want = await values('cpu', () => kernelOutputs(d, shape, relu, residual, true));
          const got = await values(backend.name, () => kernelOutputs(d, shape, relu, residual, false));
          const expectedCount = residual ? 7 : 6;
          if (got.length !== expectedCount)
            throw new Error(`${got.length} outputs, expected ${expectedCount}`);
          got.forEach((g, k) => assertClose(OUTPUT_NAMES[k], g, want[k], 2e-5));
        });
      });

      if (backend.name === 'onednn')
        it('the same bits with 2 threads as with 1', async () => {
          const shape: Shape4 = [8, 32, 32, 16];
          const d = caseData(shape, 99);
          const one = await values('onednn', () => kernelOutputs(d, shape, true, true, false));
          try {
            registerOnednnBackend(2);
            const two = await values('onednn', () => kernelOutputs(d, shape, true, true, false));
            two.forEach((t, k) => {
              const differs = t.findIndex((v, j) => !Object.is(v, one[k][j]));
              if (differs >= 0) throw new Error(`${OUTPUT_NAMES[k]} differs at ${differs}`);
            });
          } finally {
            registerOnednnBackend(1);
          }
        });
    });
  }

  describe('the op', () => {
    const backends = (): string[] => ['cpu', 'wasm', ...(addonLoad.addon ? ['onednn'] : [])];

    it('tf.grads through fusedBatchNorm on each backend match the reference on cpu and leak nothing', async () => {
      const shape: Shape4 = [2, 6, 6, 8];
      const d = caseData(shape, 5);
      const run = (): tf.Tensor[] => {
        const f = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, residual: tf.Tensor): tf.Tensor => {
          const out = fusedBatchNorm(
            x as tf.Tensor4D,
            scale as tf.Tensor1D,
            offset as tf.Tensor1D,
            residual as tf.Tensor4D,
            { epsilon: BATCH_NORM_EPSILON, relu: true },
          );
          tf.dispose([out.mean, out.variance]);
          return tf.sum(tf.mul(out.y, tf.tensor4d(d.dy, shape)));
        };
        return tf.grads(f)([
          tf.tensor4d(d.x, shape),
          tf.tensor1d(d.scale),
          tf.tensor1d(d.offset),
          tf.tensor4d(d.residual, shape),
        ]);
      };
      const want = await values('cpu', run);
      for (const backend of backends()) {
        const got = await values(backend, run);
        got.forEach((g, k) => assertClose(`${backend} ${OUTPUT_NAMES[3 + k]}`, g, want[k], 2e-5));
        // Nothing the op or its kernels make may outlive it: tensors or backend buffers.
        const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
        await values(backend, run);
        assert.deepEqual(
          [tf.memory().numTensors, tf.engine().backend.numDataIds()],
          before,
          `${backend} leaks`,
        );
      }
    });

    it('a ResNet-20 step (loss, gradients, batch statistics) matches the unfused graph', async () => {
      const arch = architectureFor('resnet20', { numClasses: 10 });
      const layouts = layoutsOf(arch);
      const weights = initialWeights(layouts, seededUniform(3));
      const shape: Shape4 = [4, 8, 8, 3];
      const images = seededNormal(4, size(shape));
      const labels = Int32Array.from({ length: 4 }, (_, i) => (3 * i) % 10);
      const step = (fused: boolean): tf.Tensor[] => {
        const params = layouts.params.tensors.map((t) =>
          tf.tensor(layouts.params.view(weights.params, t.name), [...t.shape]),
        );
        const x = tf.tensor4d(images, shape);
        const y = tf.tensor1d(labels, 'int32');
        const sink: BatchStatsSink = [];
        const { value, grads } = tf.valueAndGrads((...p: tf.Tensor[]) => {
          const bound = new Map(layouts.params.tensors.map((spec, i) => [spec.name, p[i]]));
          const get = (name: string): tf.Tensor => bound.get(name)!;
          const logits = fused ? resnetLogits(arch, get, x, sink) : unfusedLogits(arch, get, x, sink);
          return crossEntropySum(logits, y);
        })(params);
        return [value, ...grads, ...sink];
      };
      const want = await values('cpu', () => step(false));
      for (const backend of backends()) {
        const got = await values(backend, () => step(true));
        if (got.length !== want.length) throw new Error(`${got.length} outputs, expected ${want.length}`);
        got.forEach((g, k) => assertClose(`${backend} output ${k}`, g, want[k], 1e-4));
      }
    });
  });
});

/**
 * resnetLogits in training mode as it was before the fused op: separate conv, batch-norm, add and
 * ReLU ops, differentiated by tfjs itself.
 */
function unfusedLogits(
  arch: ReturnType<typeof architectureFor>,
  get: (name: string) => tf.Tensor,
  x: tf.Tensor4D,
  sink: BatchStatsSink,
): tf.Tensor2D {
  const statistics = new Map<string, tf.Tensor1D[]>();
  const logits = resnetGraph(
    arch,
    tensorResNetOps(get, (input, spec, epilogue) => {
      const conv = tf.conv2d(
        input,
        get(`${spec.name}/kernel`) as tf.Tensor4D,
        spec.stride,
        convPadding(spec),
      );
      const { mean, variance } = tf.moments(conv, [0, 1, 2]);
      // Kept, as the fused op keeps its statistics: they leave the gradient's scope through the sink.
      statistics.set(spec.name, [tf.keep(mean as tf.Tensor1D), tf.keep(variance as tf.Tensor1D)]);
      const normalised = tf.mul(tf.sub(conv, mean), tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON)));
      let y = tf.add(tf.mul(normalised, get(`${spec.name}/bn/gamma`)), get(`${spec.name}/bn/beta`));
      if (epilogue.residual) y = tf.add(y, epilogue.residual.shortcut);
      return (epilogue.relu ? tf.relu(y) : y) as tf.Tensor4D;
    }),
    x,
  );
  for (const conv of convolutions(arch)) sink.push(...statistics.get(conv.name)!);
  return logits;
}
