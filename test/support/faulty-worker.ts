import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { layoutsOf } from '@resnet/model';
import {
  RedisKeys,
  SHARD_QUEUE,
  ShardMessageMeta,
  ShardOutcome,
  ShardTask,
  WorkerInfo,
} from '@resnet/protocol';
import { architectureOf, ModelTensorCodec, TrainingJobSpec } from '@resnet/job';

/** Broken numbers or bytes, or a sound message whose header names another job, step, shard or kind. */
export type Fault =
  'nan-gradient' | 'truncated-message' | 'wrong-job' | 'wrong-step' | 'wrong-shard' | 'wrong-kind';

function headerOf(task: Extract<ShardTask, { kind: 'train' }>, fault: Fault): ShardMessageMeta {
  const header: ShardMessageMeta = {
    jobId: task.jobId,
    step: task.step,
    shard: task.shard,
    kind: 'gradient',
  };
  switch (fault) {
    case 'wrong-job':
      return { ...header, jobId: `${task.jobId}x` };
    case 'wrong-step':
      return { ...header, step: task.step + 1 };
    case 'wrong-shard':
      return { ...header, shard: task.shard + 1 };
    case 'wrong-kind':
      return { ...header, kind: 'delta' };
    default:
      return header;
  }
}

/**
 * A worker that speaks the protocol but returns broken results: what a host with bad memory or a
 * buggy build would send. Like the real worker, it stops once the coordinator quarantines it.
 */
export class FaultyWorker {
  private readonly worker: Worker<ShardTask, ShardOutcome>;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  processed = 0;

  constructor(
    redisUrl: string,
    prefix: string,
    readonly id: string,
    faults: (n: number) => Fault,
    limit = Infinity,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.keys = new RedisKeys(prefix);
    this.worker = new Worker<ShardTask, ShardOutcome>(
      SHARD_QUEUE,
      async (job) => {
        if ((await this.redis.sismember(this.keys.quarantine(), id)) === 1) {
          void this.close();
          throw new Error(`${id} is quarantined`);
        }
        const task = job.data;
        if (task.kind !== 'train') throw new Error('this faulty worker only takes training shards');
        const n = this.processed++;
        const result = await this.badResult(task, faults(n));
        if (n + 1 >= limit) void this.close(); // take no more once the limit is reached
        return result;
      },
      { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix, concurrency: 1 },
    );
  }

  private async badResult(task: Extract<ShardTask, { kind: 'train' }>, fault: Fault): Promise<ShardOutcome> {
    const spec = JSON.parse((await this.redis.hget(this.keys.job(task.jobId), 'spec'))!) as TrainingJobSpec;
    const layouts = layoutsOf(architectureOf(spec));
    const params = new Float32Array(layouts.params.size).fill(fault === 'nan-gradient' ? NaN : 0.5);
    let message = ModelTensorCodec.encode(
      layouts,
      params,
      new Float32Array(layouts.state.size),
      headerOf(task, fault),
    );
    if (fault === 'truncated-message') message = message.subarray(0, message.length - 100);
    const gradientKey = this.keys.partition(0, 1).gradient(task.jobId, task.step, task.shard);
    await this.redis.set(gradientKey, message, 'EX', 600);
    const info: WorkerInfo = {
      id: this.id,
      host: 'test',
      pid: process.pid,
      backend: 'fake',
      device: 'broken',
      precisions: ['fp32'],
      imagesPerSecond: null,
      currentShard: null,
      startedAt: Date.now(),
      lastSeen: Date.now(),
    };
    await this.redis.hset(this.keys.workerIndex(), this.id, JSON.stringify(info));
    const count = Math.floor(spec.batchSize / spec.shardsPerStep);
    return {
      workerId: this.id,
      lossSum: count,
      correct: 0,
      count,
      computeMs: 1,
      gradientKeys: [gradientKey],
      gradientBytes: message.length,
    };
  }

  private closing: Promise<void> | null = null;

  close(): Promise<void> {
    this.closing ??= this.worker.close().then(() => this.redis.disconnect());
    return this.closing;
  }
}
