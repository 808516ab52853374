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
    version: step,
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
 * Whether `due` holds at any global step passed when a job went from `stepsBefore` to `stepsDone`
 * steps: a local-SGD round passes several, and what falls due inside it happens after it.
 */
function dueWithin(stepsBefore: number, stepsDone: number, due: (steps: number) => boolean): boolean {
  for (let steps = stepsBefore + 1; steps <= stepsDone; steps++) if (due(steps)) return true;
  return false;
}

/** Evaluate after every `evalEvery` epochs and once training ends; never when evalEvery is 0. */
export function evalDue(
  spec: Pick<TrainingJobSpec, 'evalEvery' | 'stepsPerEpoch' | 'totalSteps'>,
  stepsBefore: number,
  stepsDone: number,
): boolean {
  if (spec.evalEvery <= 0) return false;
  return dueWithin(
    stepsBefore,
    stepsDone,
    (steps) =>
      steps === spec.totalSteps ||
      (steps % spec.stepsPerEpoch === 0 && (steps / spec.stepsPerEpoch) % spec.evalEvery === 0),
  );
}

/** Checkpoint every `checkpointEvery` steps and once training ends; never when checkpointEvery is 0. */
export function checkpointDue(
  spec: Pick<TrainingJobSpec, 'checkpointEvery' | 'totalSteps'>,
  stepsBefore: number,
  stepsDone: number,
): boolean {
  if (spec.checkpointEvery <= 0) return false;
  return dueWithin(
    stepsBefore,
    stepsDone,
    (steps) => steps % spec.checkpointEvery === 0 || steps === spec.totalSteps,
  );
}

/** Seed stream for initial weights, apart from the data-order streams that use (seed, epoch). */
const INIT_STREAM = 0x1417;

/** A job's version-0 weights: a pure function of its seed, so any process can recompute them. */
export function initialJobWeights(spec: TrainingJobSpec, layouts: ModelLayouts): ModelWeights {
  return initialWeights(layouts, mulberry32(hashSeed(spec.seed, INIT_STREAM)));
}
