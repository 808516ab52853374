import { TrainingJobSpec } from '@resnet/job';
import { PartitionAggregation } from './partition-aggregation';

/** What an aggregator thread is started with. */
export interface AggregatorThreadData {
  readonly spec: TrainingJobSpec;
  readonly partition: number;
  /** The job's model, shared with the loop's thread: each partition's thread updates its own share in place. */
  readonly memory: {
    readonly params: SharedArrayBuffer;
    readonly state: SharedArrayBuffer;
    readonly velocity: SharedArrayBuffer;
  };
  readonly redisUrl: string;
  readonly redisPrefix: string;
}

export type AggregatorMethod = keyof PartitionAggregation;

export interface AggregatorRequest {
  readonly id: number;
  readonly method: AggregatorMethod;
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread boundary: RejectedShardResultError keeps its blame. */
export interface AggregatorError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly blame?: { readonly countsAgainstShard: boolean; readonly blamesWorker: boolean };
}

export type AggregatorReply =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: AggregatorError };
