/**
 * A ResNet-20 training step on the webgpu backend (SwiftShader where there is no GPU) against the
 * same step on tfjs' cpu backend: loss, correct count, every gradient and every batch statistic;
 * and which kernels of the step dispatched which programs, so that a stock kernel standing in for
 * one of this project's fails.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ShardBatch, ShardGradient, ShardTrainer, WEBGPU_TRAINING_KERNELS } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf, ModelWeights } from '@resnet/model';
import { assertClose } from '../support/assert-close';
import { webgpuForTests } from '../support/webgpu-adapter';

const TOLERANCE = 1e-4;

function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** This project's programs: their shader keys, before tfjs appends the input shapes. */
const OUR_SHADER_KEY = /^resnet/;

/**
 * Runs `f` on the webgpu backend with every kernel of the backend wrapped, and returns, for each
 * kernel that ran, the programs it dispatched: 'ours' for this project's, else the stock class name.
 */
async function programsByKernel(f: () => Promise<unknown>): Promise<Map<string, Set<string>>> {
  const backend = tf.backend() as WebGPUBackend;
  const kernels = tf.getKernelsForBackend('webgpu');
  const running: string[] = [];
  const programs = new Map<string, Set<string>>();
  const runProgram = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    const kernel = running[running.length - 1] ?? '(no kernel)';
    if (!programs.has(kernel)) programs.set(kernel, new Set());
    programs.get(kernel)!.add(OUR_SHADER_KEY.test(program.shaderKey) ? 'ours' : program.constructor.name);
    return runProgram(program, ...rest);
  };
  const swap = (wrap: boolean) => {
    for (const config of kernels) {
      tf.unregisterKernel(config.kernelName, 'webgpu');
      const kernelFunc: tf.KernelFunc = (args) => {
        running.push(config.kernelName);
        try {
          return config.kernelFunc(args);
        } finally {
          running.pop();
        }
      };
      tf.registerKernel(wrap ? { ...config, kernelFunc } : config);
    }
  };
  swap(true);
  try {
    await f();
  } finally {
    swap(false);
    Reflect.deleteProperty(backend, 'runWebGPUProgram');
  }
  return programs;
}

describe('ResNet-20 training step on webgpu against cpu', function () {
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const weights: ModelWeights = initialWeights(layoutsOf(arch), seededUniform(1));
  const uniform = seededUniform(2);
  const batch: ShardBatch = {
    x: Float32Array.from({ length: 8 * 8 * 8 * 3 }, () => 2 * uniform() - 1),
    y: Int32Array.from({ length: 8 }, () => Math.floor(uniform() * 10)),
    count: 8,
    height: 8,
    width: 8,
  };

  async function step(backend: string): Promise<{ result: ShardGradient; tensorsAfter: number[] }> {
    await tf.setBackend(backend);
    const trainer = new ShardTrainer(arch);
    trainer.setWeights(weights);
    try {
      const result = await trainer.trainShard(batch);
      const first = tf.memory().numTensors;
      await trainer.trainShard(batch);
      return { result, tensorsAfter: [first, tf.memory().numTensors] };
    } finally {
      trainer.dispose();
    }
  }

  before(async function () {
    await webgpuForTests(this);
  });

  after(async () => {
    await tf.setBackend('cpu');
  });

  it('gives the loss, gradients and batch statistics of the cpu backend within 1e-4, leaking no tensor', async () => {
    const expected = (await step('cpu')).result;
    const { result: actual, tensorsAfter } = await step('webgpu');
    assert.equal(tensorsAfter[1], tensorsAfter[0], 'tensors held after a second step');
    assert.equal(actual.count, expected.count);
    assert.equal(actual.correct, expected.correct, 'correct count');
    assertClose('loss', [actual.lossSum], [expected.lossSum], TOLERANCE);
    const layouts = layoutsOf(arch);
    for (const t of layouts.params.tensors) {
      assertClose(
        `gradient of ${t.name}`,
        actual.gradientSum.subarray(t.offset, t.offset + t.size),
        expected.gradientSum.subarray(t.offset, t.offset + t.size),
        TOLERANCE,
      );
    }
    assertClose('batch statistics', actual.batchStats, expected.batchStats, TOLERANCE);
  });

  it("runs this project's kernels for every convolution and batch norm of the step, no stock one", async () => {
    await tf.setBackend('webgpu');
    const trainer = new ShardTrainer(arch);
    trainer.setWeights(weights);
    const programs = await programsByKernel(() => trainer.trainShard(batch));
    trainer.dispose();
    const ours = new Set(WEBGPU_TRAINING_KERNELS.map((k) => k.kernelName));
    for (const kernel of ours) {
      assert.deepEqual([...(programs.get(kernel) ?? ['did not run'])], ['ours'], `programs of ${kernel}`);
    }
    const stockConvOrNorm = [...programs.keys()].filter((k) => !ours.has(k) && /conv|norm/i.test(k));
    assert.deepEqual(stockConvOrNorm, [], 'stock convolution or normalisation kernels in the step');
  });
});
