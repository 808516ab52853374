/**
 * Run by evaluation-memory.spec.ts in a process of its own, so that its peak RSS is only this:
 * trains ResNet-20 shards of TRAIN_SHARD images, then evaluates EVAL_IMAGES images in micro-batches
 * of that size, and prints the peak RSS after each (process.resourceUsage().maxRSS, in KiB).
 */
import { BackendChoice, initComputeBackend, ShardBatch, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { seededNormal, seededUniform } from './seeded-data';

export const TRAIN_SHARD = 64;
export const EVAL_IMAGES = 512;
const SIDE = 32;
const CLASSES = 10;
export const RESULT_PREFIX = 'EVALUATION_MEMORY ';

export interface EvaluationMemory {
  readonly backend: string;
  readonly trainingPeakKiB: number;
  readonly evaluationPeakKiB: number;
  readonly evaluated: number;
}

function batchOf(count: number, seed: number): ShardBatch {
  const uniform = seededUniform(seed);
  return {
    x: seededNormal(seed, count * SIDE * SIDE * 3),
    y: Int32Array.from({ length: count }, () => Math.floor(uniform() * CLASSES)),
    count,
    height: SIDE,
    width: SIDE,
  };
}

async function measure(backend: BackendChoice): Promise<EvaluationMemory> {
  const compute = await initComputeBackend(backend, 'cpu', { threads: 1 });
  const arch = architectureFor('resnet20', { numClasses: CLASSES });
  const trainer = new ShardTrainer(arch);
  trainer.setWeights(initialWeights(layoutsOf(arch), seededUniform(3)));
  // Two shards: the second reuses what the first allocated, as every later step of a job does.
  for (const seed of [1, 2]) await trainer.trainShard(batchOf(TRAIN_SHARD, seed));
  const trainingPeakKiB = process.resourceUsage().maxRSS;
  const evaluation = await trainer.evaluate(batchOf(EVAL_IMAGES, 9), TRAIN_SHARD);
  return {
    backend: compute.backend,
    trainingPeakKiB,
    evaluationPeakKiB: process.resourceUsage().maxRSS,
    evaluated: evaluation.count,
  };
}

if (require.main === module) {
  measure(process.argv[2] as BackendChoice)
    .then((m) => console.log(RESULT_PREFIX + JSON.stringify(m)))
    .catch((err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    });
}
