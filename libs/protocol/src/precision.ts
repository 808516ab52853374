import { SHARD_QUEUE } from './redis-keys';

/**
 * What a job's convolutions and matrix products compute in. `bf16` is mixed precision as
 * PyTorch's CPU autocast runs it: bfloat16 operands with float32 accumulation, while batch norm,
 * the loss, the weights, the optimizer and the gradients sent to the coordinator stay float32.
 */
export const PRECISIONS = ['fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const DEFAULT_PRECISION: Precision = 'fp32';

/** The BullMQ queue a job of this precision puts its shards on: only workers that compute it consume it. */
export function shardQueueFor(precision: Precision): string {
  return precision === 'fp32' ? SHARD_QUEUE : `${SHARD_QUEUE}-${precision}`;
}
