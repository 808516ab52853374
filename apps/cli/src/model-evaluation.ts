import * as tf from '@tensorflow/tfjs';
import { evalImages, SplitImages } from '@resnet/data';
import { Preprocessing } from './trained-model';

/** How many of the evaluated images the model ranked right first, and within its first five. */
export interface ModelAccuracy {
  readonly count: number;
  readonly top1Correct: number;
  readonly top5Correct: number;
}

/** Test images per forward pass: memory stays bounded whatever the size of the test set. */
const EVAL_BATCH = 250;

/**
 * Counts a trained model's top-1 and top-5 hits over every `every`-th test image (all of them by
 * default; a fixed slice otherwise), each prepared as its job's evaluations prepared it
 * (normalised with the model's own statistics, not augmented).
 */
export async function evaluateModel(
  model: tf.LayersModel,
  test: SplitImages,
  prep: Pick<Preprocessing, 'normalization'>,
  every = 1,
): Promise<ModelAccuracy> {
  const indices = Array.from({ length: Math.ceil(test.size / every) }, (_, i) => i * every);
  let top1Correct = 0;
  let top5Correct = 0;
  for (let start = 0; start < indices.length; start += EVAL_BATCH) {
    const batch = await evalImages(test, indices.slice(start, start + EVAL_BATCH), prep.normalization);
    const ranked = tf.tidy(() => {
      const logits = model.predict(
        tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3]),
      ) as tf.Tensor2D;
      return tf.topk(logits, Math.min(5, logits.shape[1])).indices;
    });
    const classes = (await ranked.data()) as Int32Array;
    ranked.dispose();
    const k = classes.length / batch.count;
    for (let i = 0; i < batch.count; i++) {
      const first = classes.subarray(i * k, (i + 1) * k);
      if (first[0] === batch.y[i]) top1Correct++;
      if (first.includes(batch.y[i])) top5Correct++;
    }
  }
  return { count: indices.length, top1Correct, top5Correct };
}
