import { RedisKeys, ReusableBuffer, WorkerInfo } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient } from '@resnet/redis-connections';

/**
 * Every Redis read and write a worker makes, besides the BullMQ queue itself; weights versions and
 * gradient messages go through `blobs`, which moves big values without copying them.
 */
export class WorkerRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly blobs: BlobStore,
    private readonly keys: RedisKeys,
  ) {}

  async jobSpec(jobId: string): Promise<TrainingJobSpec> {
    const raw = await this.redis.hget(this.keys.job(jobId), 'spec');
    if (!raw) throw new Error(`job ${jobId} has no spec in Redis (deleted, or a different key prefix)`);
    return JSON.parse(raw) as TrainingJobSpec;
  }

  /** Partition `partition` of `partitions` of the version, read into `into`. */
  async weights(
    jobId: string,
    version: number,
    partition: number,
    partitions: number,
    into: ReusableBuffer,
  ): Promise<Buffer> {
    const buf = await this.blobs.get(
      this.keys.partition(partition, partitions).weights(jobId, version),
      into,
    );
    if (!buf) throw new Error(`weights version ${version} of job ${jobId} are not in Redis`);
    return buf;
  }

  /** Gradient blobs expire on their own if the coordinator never collects them. */
  async putGradient(key: string, message: Buffer, ttlSeconds: number): Promise<void> {
    await this.blobs.set(key, message, ttlSeconds);
  }

  async heartbeat(info: WorkerInfo): Promise<void> {
    await this.redis.hset(this.keys.workerIndex(), info.id, JSON.stringify(info));
  }

  async isQuarantined(workerId: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.quarantine(), workerId)) === 1;
  }

  async leave(workerId: string): Promise<void> {
    await this.redis.hdel(this.keys.workerIndex(), workerId);
  }
}
