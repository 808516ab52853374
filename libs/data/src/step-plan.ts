import { DatasetError } from './errors/dataset.error';
import { epochPermutation } from './random';

/** Everything needed to know which samples any global step and shard trains on. */
export interface StepPlan {
  datasetSize: number;
  /** Global batch size: samples per step over all shards. */
  batchSize: number;
  shardsPerStep: number;
  seed: number;
}

export interface StepSamples {
  epoch: number;
  /** Dataset indices of the step's global batch. */
  indices: Uint32Array;
}

export interface IndexRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/** Whole batches per epoch; the last partial batch is dropped so every step has the same size. */
export function stepsPerEpoch(plan: StepPlan): number {
  const { datasetSize, batchSize, shardsPerStep } = plan;
  requireWhole('dataset size', datasetSize, 0);
  requireWhole('batch size', batchSize, 1);
  requireWhole('shards per step', shardsPerStep, 1);
  if (shardsPerStep > batchSize) {
    throw new DatasetError(
      `${shardsPerStep} shards per step cannot split a batch of ${batchSize} samples; use at most ${batchSize} shards or a larger batch.`,
    );
  }
  const steps = Math.floor(datasetSize / batchSize);
  if (steps === 0) {
    throw new DatasetError(
      `The dataset has ${datasetSize} samples, fewer than one batch of ${batchSize}; lower the batch size to at most ${datasetSize}.`,
    );
  }
  return steps;
}

/** The global batch of a global step: consecutive slices of each epoch's permutation. */
export function stepSamples(plan: StepPlan, step: number): StepSamples {
  const steps = stepsPerEpoch(plan);
  requireWhole('step', step, 0);
  const epoch = Math.floor(step / steps);
  const start = (step % steps) * plan.batchSize;
  const order = permutationFor(plan.seed, epoch, plan.datasetSize);
  return { epoch, indices: order.slice(start, start + plan.batchSize) };
}

/** Which positions of the global batch a shard gets: contiguous, sizes differing by at most one. */
export function shardRange(plan: StepPlan, shard: number): IndexRange {
  stepsPerEpoch(plan);
  if (!Number.isInteger(shard) || shard < 0 || shard >= plan.shardsPerStep) {
    throw new RangeError(`shard ${shard} is outside 0..${plan.shardsPerStep - 1}`);
  }
  const base = Math.floor(plan.batchSize / plan.shardsPerStep);
  const larger = plan.batchSize % plan.shardsPerStep;
  const start = shard * base + Math.min(shard, larger);
  return { start, end: start + base + (shard < larger ? 1 : 0) };
}

/** The most samples any shard of a step trains on (see shardRange): the first shards take the remainder. */
export function largestShardSize(plan: Pick<StepPlan, 'batchSize' | 'shardsPerStep'>): number {
  return Math.ceil(plan.batchSize / plan.shardsPerStep);
}

/** The dataset indices shard `shard` trains on at global step `step`. */
export function shardSamples(plan: StepPlan, step: number, shard: number): Uint32Array {
  const { start, end } = shardRange(plan, shard);
  return stepSamples(plan, step).indices.subarray(start, end);
}

/** Splits 0..datasetSize-1 into consecutive ranges of shardSize (the last may be shorter). */
export function evalShards(datasetSize: number, shardSize: number): IndexRange[] {
  requireWhole('dataset size', datasetSize, 0);
  requireWhole('evaluation shard size', shardSize, 1);
  const shards: IndexRange[] = [];
  for (let start = 0; start < datasetSize; start += shardSize) {
    shards.push({ start, end: Math.min(start + shardSize, datasetSize) });
  }
  return shards;
}

/*
 * Every shard of a step asks for the same epoch's permutation; remembering the latest one saves
 * re-shuffling the whole dataset for each shard.
 */
let lastPermutation: { seed: number; epoch: number; size: number; order: Uint32Array } | null = null;

function permutationFor(seed: number, epoch: number, size: number): Uint32Array {
  if (
    lastPermutation === null ||
    lastPermutation.seed !== seed ||
    lastPermutation.epoch !== epoch ||
    lastPermutation.size !== size
  ) {
    lastPermutation = { seed, epoch, size, order: epochPermutation(seed, epoch, size) };
  }
  return lastPermutation.order;
}

function requireWhole(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new DatasetError(`The ${name} must be a whole number >= ${minimum}, got ${value}`);
  }
}
