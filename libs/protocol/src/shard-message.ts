/**
 * What a training shard's message holds, named in its header. 'gradient' (synchronous SGD): the
 * gradient summed over the shard's samples, and its batch statistics. 'delta' (a local-SGD round):
 * the shard's parameter change over its local steps (round's weights − its own) times its sample
 * count, and the batch statistics of its first local step (those of the round's weights).
 */
export type ShardMessageKind = 'gradient' | 'delta';

/** Header metadata of a training shard's message. */
export interface ShardMessageMeta {
  readonly jobId: string;
  readonly step: number;
  readonly shard: number;
  readonly kind: ShardMessageKind;
  /** Which part of the model the message holds when the job splits it (TrainingJobSpec.partitions); 0 when absent. */
  readonly partition?: number;
}
