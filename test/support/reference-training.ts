import { DatasetSplits, openDatasetSplits, shardBatch } from '@resnet/data';
import { ShardTrainer } from '@resnet/engine';
import { architectureFor, layoutsOf, ModelWeights } from '@resnet/model';
import { applyStep, lrAt, StepAggregator } from '@resnet/optimizer';
import { TrainingJobSpec } from '@resnet/protocol';
import { initialJobWeights, scheduleOf } from '../../apps/coordinator/src/training/training-plan';

/**
 * Single-process SGD on the same global batches: every shard of a step computed one after the
 * other in this process, then the same optimizer. What the cluster must reproduce exactly.
 */
export async function referenceTraining(
  spec: TrainingJobSpec,
  steps: number,
  dataRoot: string,
): Promise<ModelWeights> {
  const arch = architectureFor(spec.model, { numClasses: spec.numClasses, shortcut: spec.shortcut });
  const layouts = layoutsOf(arch);
  const trainer = new ShardTrainer(arch);
  const data: DatasetSplits = await openDatasetSplits(spec.dataset, dataRoot);
  let weights: ModelWeights = initialJobWeights(spec, layouts);
  let velocity: Float32Array = new Float32Array(layouts.params.size);
  const channels = layouts.batchNorms.map((b) => b.channels);
  for (let step = 0; step < steps; step++) {
    trainer.setWeights(weights);
    const aggregator = new StepAggregator(layouts.params.size, spec.shardsPerStep, channels);
    for (let shard = 0; shard < spec.shardsPerStep; shard++) {
      aggregator.add(shard, await trainer.trainShard(await shardBatch(data.train, spec, step, shard)));
    }
    const next = applyStep(
      weights,
      velocity,
      aggregator.result(),
      lrAt(scheduleOf(spec), step),
      spec.optimizer,
      channels,
    );
    weights = next;
    velocity = next.velocity;
  }
  trainer.dispose();
  return weights;
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
