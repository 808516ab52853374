import { UnitRoute } from './summation-service';

/** The data of one BullMQ job on the shard queue. */
export type ShardTask =
  | {
      readonly kind: 'train';
      readonly jobId: string;
      /**
       * The global step of the shard's batch; with local SGD, the first of its round's (see
       * roundSteps). Also the weights version it computes against (see weightsVersionOf).
       */
      readonly step: number;
      readonly shard: number;
      /**
       * A job on summation services: the step's attempt (a step is redone under a higher one
       * when a service is lost mid-step), and where each unit is pushed and pulled.
       */
      readonly attempt?: number;
      readonly units?: readonly UnitRoute[];
    }
  | {
      readonly kind: 'eval';
      readonly jobId: string;
      /** The committed weights version to evaluate. */
      readonly version: number;
      readonly shard: number;
      readonly start: number;
      readonly end: number;
    };

/** The weights version a shard computes against: a training shard's step is the version it starts from. */
export function weightsVersionOf(task: ShardTask): number {
  return task.kind === 'train' ? task.step : task.version;
}

/** BullMQ job ids must not contain ':'; these ids also make re-enqueueing a shard idempotent. */
export function shardTaskId(task: ShardTask): string {
  return task.kind === 'train'
    ? `${task.jobId}_train_${task.step}_${task.shard}${task.attempt ? `_a${task.attempt}` : ''}`
    : `${task.jobId}_eval_${task.version}_${task.shard}`;
}

/**
 * Why `data`, read from a shard queue entry, is not a shard task (null when it is one): entries
 * are written by whoever can reach Redis, so a worker checks before it computes.
 */
export function shardTaskProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return 'holds no JSON object';
  const task = data as Record<string, unknown>;
  if (task.kind !== 'train' && task.kind !== 'eval') return 'has a kind other than train or eval';
  if (typeof task.jobId !== 'string' || !/^[\w-]+$/.test(task.jobId)) return 'has no valid jobId';
  const numbers = task.kind === 'train' ? ['step', 'shard'] : ['version', 'shard', 'start', 'end'];
  const missing = numbers.filter(
    (field) => !Number.isSafeInteger(task[field]) || (task[field] as number) < 0,
  );
  return missing.length ? `has no valid ${missing.join(', ')}` : null;
}
