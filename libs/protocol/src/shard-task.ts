import { TrainingJobSpec, usesLocalSgd } from './training-job';

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

/**
 * What a training shard's message holds, named in its header. 'gradient' (synchronous SGD): the
 * gradient summed over the shard's samples, and its batch statistics. 'delta' (a local-SGD round):
 * the shard's parameter change over its local steps (round's weights − its own) times its sample
 * count, and the batch statistics of its first local step (those of the round's weights).
 */
export type ShardMessageKind = 'gradient' | 'delta';

/** Header metadata of a training shard's message; messages without a kind are gradients. */
export interface ShardMessageMeta {
  readonly jobId: string;
  readonly step: number;
  readonly shard: number;
  readonly kind?: ShardMessageKind;
}

export function shardMessageKind(spec: Pick<TrainingJobSpec, 'localSteps'>): ShardMessageKind {
  return usesLocalSgd(spec) ? 'delta' : 'gradient';
}

/** What a worker returns for a shard; a training shard's gradients travel separately as a binary blob. */
export interface ShardOutcome {
  readonly workerId: string;
  readonly lossSum: number;
  readonly correct: number;
  /** Evaluation shards only: samples whose label is among the 5 highest logits. */
  readonly correctTop5?: number;
  /** Samples behind the loss, accuracy and message: with local SGD, over all of the round's batches. */
  readonly count: number;
  readonly computeMs: number;
  /**
   * The worker found its own loss, gradients or batch statistics non-finite and sent none: the
   * training diverged. Non-finite values it did not own up to are treated as a faulty worker.
   */
  readonly nonFinite?: boolean;
  /** Redis key of the shard's message, a gradient or a local-SGD delta (training shards only). */
  readonly gradientKey?: string;
  readonly gradientBytes?: number;
  /** How long the shard waited for its weights version: fetch and decode, or less when prefetched. */
  readonly weightFetchMs?: number;
  /** Encoding and storing the gradient message. */
  readonly uploadMs?: number;
}

/** BullMQ job ids must not contain ':'; these ids also make re-enqueueing a shard idempotent. */
export function shardTaskId(task: ShardTask): string {
  return task.kind === 'train'
    ? `${task.jobId}_train_${task.step}_${task.shard}`
    : `${task.jobId}_eval_${task.version}_${task.shard}`;
}

/** One record per weights version: per step, or with local SGD per round. */
export interface StepMetrics {
  /** Global steps done: the weights version this step or round produced. */
  readonly step: number;
  readonly epoch: number;
  /** Over the samples of the step, or of all local steps of the round. */
  readonly loss: number;
  readonly accuracy: number;
  /** The rate of the last step applied (with local SGD, of the round's last local step). */
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly stepMs: number;
  /** Wall time from enqueueing the shards until the last result arrived. */
  readonly waitMs: number;
  /** The slowest shard's own compute time. */
  readonly slowestShardMs: number;
  readonly at: number;
  // Where a step's time goes, for benchmarks and dashboards (absent in metrics of older versions).
  /** Putting the step's shards on the queue. */
  readonly enqueueMs?: number;
  /** Longest wait of a shard for its weights version (worker-reported). */
  readonly weightFetchMs?: number;
  /** Longest gradient encode and store of a shard (worker-reported). */
  readonly uploadMs?: number;
  /** From the step's start until the last shard's result arrived; waitMs minus this is aggregation left after it. */
  readonly lastArrivalMs?: number;
  /** Coordinator time checking and folding gradient messages (after reading them), summed over the shards. */
  readonly aggregateMs?: number;
  /** Averaging the folded gradients, the SGD update and its finiteness checks. */
  readonly optimizerMs?: number;
  /**
   * Encoding and committing the weights version this step computed against, i.e. the previous
   * step's publication: a commit cannot record its own duration in the record it commits.
   */
  readonly publishMs?: number;
  /** Bytes of gradient messages the step used. */
  readonly gradientBytes?: number;
}

export interface EvalMetrics {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  /** Top-1 accuracy. */
  readonly accuracy: number;
  /** Top-5 accuracy (1 when there are at most 5 classes). */
  readonly top5: number;
  readonly count: number;
  readonly at: number;
}

export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
  readonly device: string;
  /** The WebGPU adapter of a webgpu worker (a fallback adapter is a software one, e.g. SwiftShader). */
  readonly adapter?: {
    readonly vendor: string;
    readonly architecture: string;
    readonly device: string;
    readonly description: string;
    readonly isFallbackAdapter: boolean;
  };
  readonly imagesPerSecond: number | null;
  readonly currentShard: string | null;
  readonly startedAt: number;
  readonly lastSeen: number;
}
