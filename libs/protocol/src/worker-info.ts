import { Precision } from './precision';

/** The GPU adapter a WebGPU worker computes on, as WebGPU's GPUAdapterInfo describes it. */
export interface WorkerAdapter {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software adapter (such as SwiftShader): WebGPU works, but without a GPU's speed. */
  readonly isFallbackAdapter: boolean;
}

/** A worker that has not sent a heartbeat for this long is gone (shown so, and given no share of the work). */
export const WORKER_ALIVE_WITHIN_MS = 15_000;

/** A worker's heartbeat: who it is, what it computes with, and what it is doing. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
  readonly device: string;
  /** WebGPU workers only. */
  readonly adapter?: WorkerAdapter;
  /** The precisions it computes jobs in; it takes shards of these only (see shardQueueFor). */
  readonly precisions: readonly Precision[];
  readonly imagesPerSecond: number | null;
  readonly currentShard: string | null;
  readonly startedAt: number;
  readonly lastSeen: number;
}
