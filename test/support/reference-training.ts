import { DatasetSplits, openDatasetSplits, shardBatch } from '@resnet/data';
import { ShardTrainer } from '@resnet/engine';
import { layoutsOf, ModelWeights } from '@resnet/model';
import {
  applyRoundInPlace,
  applyStep,
  LocalSgdRound,
  lrAt,
  ShardContribution,
  StepAggregator,
} from '@resnet/optimizer';
import {
  architectureOf,
  foldGroupOf,
  roundSteps,
  scheduleOf,
  TrainingJobSpec,
  usesLocalSgd,
} from '@resnet/job';
import { initialJobWeights } from '../../apps/coordinator/src/plan/training-plan';

/**
 * Single-process SGD on the same global batches: every shard of a step computed one after the
 * other in this process, then the same optimizer. With local SGD, every shard's local steps of a
 * round one after the other, then the same average. What the cluster must reproduce exactly.
 */
export async function referenceTraining(
  spec: TrainingJobSpec,
  steps: number,
  dataRoot: string,
): Promise<ModelWeights> {
  const arch = architectureOf(spec);
  const layouts = layoutsOf(arch);
  const trainer = new ShardTrainer(arch);
  const data: DatasetSplits = await openDatasetSplits(spec.dataset, dataRoot);
  let weights: ModelWeights = initialJobWeights(spec, layouts);
  let velocity: Float32Array = new Float32Array(layouts.params.size);
  const channels = layouts.batchNorms.map((b) => b.channels);
  for (let step = 0; step < steps; step += roundSteps(spec, step)) {
    const aggregator = new StepAggregator(
      layouts.params.size,
      spec.shardsPerStep,
      channels,
      foldGroupOf(spec),
    );
    if (usesLocalSgd(spec)) {
      for (let shard = 0; shard < spec.shardsPerStep; shard++) {
        aggregator.add(shard, await localRound(trainer, data, spec, step, shard, weights));
      }
      const h = roundSteps(spec, step);
      applyRoundInPlace(weights, aggregator.roundResult(h), h, channels);
      continue;
    }
    trainer.setWeights(weights);
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

/** One shard's local steps of the round that starts at `step`, from `start`. */
async function localRound(
  trainer: ShardTrainer,
  data: DatasetSplits,
  spec: TrainingJobSpec,
  step: number,
  shard: number,
  start: ModelWeights,
): Promise<ShardContribution> {
  const round = new LocalSgdRound(start, spec.optimizer);
  for (let local = step; local < step + roundSteps(spec, step); local++) {
    trainer.setWeights({ params: round.weights.params.slice(), state: round.weights.state.slice() });
    round.step(
      await trainer.trainShard(await shardBatch(data.train, spec, local, shard)),
      lrAt(scheduleOf(spec), local),
    );
  }
  return round.result();
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
