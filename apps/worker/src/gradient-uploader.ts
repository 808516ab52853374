import { RedisKeys, ReusableBufferPool, ShardMessageMeta, ShardTask, UnitRefusal } from '@resnet/protocol';
import {
  ModelTensorCodec,
  PartitionedModel,
  partitionOf,
  shardMessageKind,
  TrainingJobSpec,
} from '@resnet/job';
import { ServiceUnits, ShardTotals } from './service-units';
import { WorkerRepository } from './worker.repository';

const GRADIENT_TTL_SECONDS = 3600;
/** Jobs whose rounding residuals a worker keeps at once (each is one parameter vector). */
const RESIDUAL_JOBS = 4;

export interface UploadedGradient {
  /** Each partition's key, in partition order (see ShardOutcome.gradientKeys); absent for a job on summation services, whose units went to the services. */
  readonly gradientKeys?: readonly string[];
  readonly gradientBytes: number;
  readonly uploadMs: number;
  /** A job on summation services: a service refused one of the units. */
  readonly refused?: UnitRefusal;
}

/**
 * Encodes a shard's gradient message (or, with local SGD, its delta message: see ShardMessageKind)
 * in the job's gradient encoding and stores it where the coordinator reads it.
 *
 * fp16 and bf16 use error feedback: what rounding lost from one message is added to the next one
 * before rounding, so the errors cancel over steps instead of accumulating. The residual is this
 * worker's, per job, not the shard slot's: the coordinator sums all shards' gradients (or, with
 * local SGD, their weighted deltas, which the same reasoning covers), so a residual contributes
 * the same to the step whichever shard carries it, and the sum of everything sent telescopes to
 * the sum of the true gradients minus one residual per worker. That stays true when shards move
 * between workers (the usual simplification, a residual per (job, shard index), would leave stale
 * residuals behind in workers that no longer get that shard, and hold one vector per shard). A
 * message that is lost or rejected after its residual was taken loses at most one residual; the
 * batch statistics travel rounded without feedback (they are pooled, not summed).
 *
 * A model split into partitions sends one message per partition, each under its partition's key,
 * side by side (in a Redis Cluster they go to different masters). A job on summation services
 * sends one message per unit (its partitions) straight to the unit's owner instead.
 */
export class GradientUploader {
  private readonly residuals = new Map<string, Float32Array>();
  /** Free again once the messages are stored: the next shard's messages are encoded into them. */
  private readonly messages = new ReusableBufferPool();

  constructor(
    private readonly repo: WorkerRepository,
    private readonly keys: RedisKeys,
    private readonly units: ServiceUnits,
  ) {}

  async upload(
    task: Extract<ShardTask, { kind: 'train' }>,
    spec: TrainingJobSpec,
    model: PartitionedModel,
    gradientSum: Float32Array,
    batchStats: Float32Array,
    totals: ShardTotals,
  ): Promise<UploadedGradient> {
    const started = performance.now();
    const dtype = spec.gradientEncoding;
    const { layouts, partitions } = model;
    const residual = dtype === 'fp32' ? undefined : this.residualOf(task.jobId, layouts.params.size);
    const meta: ShardMessageMeta = {
      jobId: task.jobId,
      step: task.step,
      shard: task.shard,
      kind: shardMessageKind(spec),
    };
    this.messages.releaseAll();
    const messages = partitions.map((p) => {
      const part = partitionOf(p, { params: gradientSum, state: batchStats });
      return ModelTensorCodec.encode(
        p.layouts,
        part.params,
        part.state,
        partitions.length === 1 ? meta : { ...meta, partition: p.index },
        { dtype, residual: residual?.subarray(p.start, p.end), into: this.messages.next() },
      );
    });
    const gradientBytes = messages.reduce((n, m) => n + m.length, 0);
    if (task.units) {
      const refused = await this.units.push(task, task.units, messages, totals);
      return { gradientBytes, uploadMs: performance.now() - started, ...(refused ? { refused } : {}) };
    }
    const sent = await Promise.all(
      partitions.map(async (p, i) => {
        const message = messages[i];
        const key = this.keys
          .partition(p.index, partitions.length)
          .gradient(task.jobId, task.step, task.shard);
        await this.repo.putGradient(key, message, GRADIENT_TTL_SECONDS);
        return key;
      }),
    );
    return {
      gradientKeys: sent,
      gradientBytes,
      uploadMs: performance.now() - started,
    };
  }

  private residualOf(jobId: string, size: number): Float32Array {
    let residual = this.residuals.get(jobId);
    this.residuals.delete(jobId); // re-inserted last: the map's order is least recently used first
    residual ??= new Float32Array(size);
    this.residuals.set(jobId, residual);
    if (this.residuals.size > RESIDUAL_JOBS) this.residuals.delete(this.residuals.keys().next().value!);
    return residual;
  }
}
