import * as tf from '@tensorflow/tfjs';
import { mulberry32, Random } from '@resnet/data';
import { ShardBatch, ShardTrainer } from '@resnet/engine';
import { initialWeights, layoutsOf, ModelWeights, ResNetArchitecture, resnetLogits } from '@resnet/model';

/** `count` images of uniform noise around 0 (as normalised images are) with labels cycling through the classes. */
export function randomBatch(
  count: number,
  [height, width]: readonly [number, number],
  numClasses: number,
  random: Random,
): ShardBatch {
  const x = Float32Array.from({ length: count * height * width * 3 }, () => 2 * random() - 1);
  const y = Int32Array.from({ length: count }, (_, i) => i % numClasses);
  return { x, y, count, height, width };
}

/**
 * Initial weights with batch-norm scales and offsets moved off 1 and 0 and running statistics set
 * to a real batch's statistics, so eval-mode outputs are well scaled and every tensor's place matters.
 */
export async function calibratedWeights(
  arch: ResNetArchitecture,
  imageShape: readonly [number, number],
  seed: number,
): Promise<ModelWeights> {
  const layouts = layoutsOf(arch);
  const random = mulberry32(seed);
  const { params } = initialWeights(layouts, random);
  for (const bn of layouts.batchNorms) {
    const gamma = layouts.params.view(params, `${bn.name}/gamma`);
    const beta = layouts.params.view(params, `${bn.name}/beta`);
    for (let c = 0; c < bn.channels; c++) {
      gamma[c] = 0.5 + random();
      beta[c] = 0.2 * (random() - 0.5);
    }
  }
  const trainer = new ShardTrainer(arch);
  try {
    trainer.setWeights({ params, state: new Float32Array(layouts.state.size) });
    const { batchStats } = await trainer.trainShard(randomBatch(4, imageShape, arch.numClasses, random));
    return { params, state: batchStats };
  } finally {
    trainer.dispose();
  }
}

/** resnetLogits in inference mode (running statistics) on the active backend. */
export async function evalLogits(
  arch: ResNetArchitecture,
  weights: ModelWeights,
  batch: ShardBatch,
): Promise<Float32Array> {
  const layouts = layoutsOf(arch);
  const tensors = new Map<string, tf.Tensor>();
  for (const [layout, flat] of [
    [layouts.params, weights.params],
    [layouts.state, weights.state],
  ] as const) {
    for (const t of layout.tensors) tensors.set(t.name, tf.tensor(layout.view(flat, t.name), [...t.shape]));
  }
  const logits = tf.tidy(() =>
    resnetLogits(
      arch,
      (name) => tensors.get(name)!,
      tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3]),
      null,
    ),
  );
  try {
    return (await logits.data()) as Float32Array;
  } finally {
    tf.dispose([logits, ...tensors.values()]);
  }
}

export function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}
