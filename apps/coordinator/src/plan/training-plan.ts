import { evalShards, hashSeed, mulberry32 } from '@resnet/data';
import { initialWeights, ModelLayouts, ModelWeights } from '@resnet/model';
import { ShardTask } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';

/** Pure helpers that turn a job spec into what a step needs; no I/O. */

export function trainTasks(jobId: string, spec: TrainingJobSpec, step: number): ShardTask[] {
  return Array.from({ length: spec.shardsPerStep }, (_, shard) => ({
    kind: 'train',
    jobId,
    step,
    shard,
  }));
}

export function evalTasks(jobId: string, spec: TrainingJobSpec, version: number): ShardTask[] {
  return evalShards(spec.testSize, spec.evalShardSize).map(({ start, end }, shard) => ({
    kind: 'eval',
    jobId,
    version,
    shard,
    start,
    end,
  }));
}

/**
 * Whether a job that went from `stepsBefore` to `stepsDone` steps passed a multiple of `interval`
 * steps or its last step; never when `interval` is 0. A local-SGD round passes several steps, and
 * what falls due inside it happens after it.
 */
function dueEvery(interval: number, totalSteps: number, stepsBefore: number, stepsDone: number): boolean {
  if (interval <= 0) return false;
  for (let steps = stepsBefore + 1; steps <= stepsDone; steps++)
    if (steps % interval === 0 || steps === totalSteps) return true;
  return false;
}

/** Evaluate after every `evalEvery` epochs and once training ends; never when evalEvery is 0. */
export function evalDue(
  spec: Pick<TrainingJobSpec, 'evalEvery' | 'stepsPerEpoch' | 'totalSteps'>,
  stepsBefore: number,
  stepsDone: number,
): boolean {
  return dueEvery(spec.evalEvery * spec.stepsPerEpoch, spec.totalSteps, stepsBefore, stepsDone);
}

/** Checkpoint every `checkpointEvery` steps and once training ends; never when checkpointEvery is 0. */
export function checkpointDue(
  spec: Pick<TrainingJobSpec, 'checkpointEvery' | 'totalSteps'>,
  stepsBefore: number,
  stepsDone: number,
): boolean {
  return dueEvery(spec.checkpointEvery, spec.totalSteps, stepsBefore, stepsDone);
}

/** Seed stream for initial weights, apart from the data-order streams that use (seed, epoch). */
const INIT_STREAM = 0x1417;

/** A job's version-0 weights: a pure function of its seed, so any process can recompute them. */
export function initialJobWeights(spec: TrainingJobSpec, layouts: ModelLayouts): ModelWeights {
  return initialWeights(layouts, mulberry32(hashSeed(spec.seed, INIT_STREAM)));
}
