/** The data of one BullMQ job on the shard queue. */
export type ShardTask =
  | {
      readonly kind: 'train';
      readonly jobId: string;
      /** The global step of the shard's batch; with local SGD, the first of its round's (see roundSteps). */
      readonly step: number;
      /** Weights version to compute against; equals `step`. */
      readonly version: number;
      readonly shard: number;
    }
  | {
      readonly kind: 'eval';
      readonly jobId: string;
      readonly version: number;
      readonly shard: number;
      readonly start: number;
      readonly end: number;
    };

/** BullMQ job ids must not contain ':'; these ids also make re-enqueueing a shard idempotent. */
export function shardTaskId(task: ShardTask): string {
  return task.kind === 'train'
    ? `${task.jobId}_train_${task.step}_${task.shard}`
    : `${task.jobId}_eval_${task.version}_${task.shard}`;
}
