/**
 * Native float32 BatchMatMul on oneDNN's sgemm: the classifier layer, whose [batch, features] x
 * [features, classes] products and their gradients the cpu backend runs as JavaScript loops (a
 * second per step for ResNet-50's 2048 x 1000 layer at batch 128). At the backend's bf16
 * precision the operands are rounded to bfloat16 first (see matmul.h).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function matMulKernelConfigs(addon: OnednnAddon): KernelConfig[] {
  const batchMatMul = nativeKernelConfig<tf.BatchMatMulAttrs>(tf.BatchMatMul, (inputs, backend, attrs) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (!isFloat32(a, b) || a.shape.length < 2 || b.shape.length < 2) return null;
    const [aRows, aCols] = a.shape.slice(-2);
    const [bRows, bCols] = b.shape.slice(-2);
    const [m, k] = attrs.transposeA ? [aCols, aRows] : [aRows, aCols];
    const [kB, n] = attrs.transposeB ? [bCols, bRows] : [bRows, bCols];
    const outBatchShape = tf.backend_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    const batch = size(outBatchShape);
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    // Each operand either has every batch or one matrix for all; empty products go to the cpu kernel.
    const broadcasts = (ownBatch: number): boolean => ownBatch === batch || ownBatch === 1;
    if (k !== kB || m * n * k * batch === 0 || !broadcasts(batchA) || !broadcasts(batchB)) return null;
    const out = backend.outputBuffer(batch * m * n);
    const geometry = Int32Array.of(
      batchA,
      batchB,
      m,
      n,
      k,
      Number(attrs.transposeA),
      Number(attrs.transposeB),
    );
    addon.matMul(
      backend.float32Values(a),
      backend.float32Values(b),
      out,
      geometry,
      backend.precision === 'bf16',
    );
    return backend.makeTensorInfo([...outBatchShape, m, n], 'float32', out);
  });
  return [batchMatMul];
}
