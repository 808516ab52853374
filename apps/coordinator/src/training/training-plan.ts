import { evalShards } from '@resnet/data';
import { LrSchedule } from '@resnet/optimizer';
import { ShardTask, TrainingJobSpec } from '@resnet/protocol';

/** Pure helpers that turn a job spec into what a step needs; no I/O. */
export function scheduleOf(spec: TrainingJobSpec): LrSchedule {
  return { ...spec.schedule, batchSize: spec.batchSize, totalSteps: spec.totalSteps };
}

export function trainTasks(jobId: string, spec: TrainingJobSpec, step: number): ShardTask[] {
  return Array.from({ length: spec.shardsPerStep }, (_, shard) => ({ kind: 'train', jobId, step, version: step, shard }));
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

/** Evaluate after every `evalEvery` epochs, and always once training ends. */
export function evalDue(spec: TrainingJobSpec, stepsDone: number): boolean {
  if (stepsDone === spec.totalSteps) return true;
  if (spec.evalEvery <= 0 || stepsDone % spec.stepsPerEpoch !== 0) return false;
  return (stepsDone / spec.stepsPerEpoch) % spec.evalEvery === 0;
}
