import { Redis } from 'ioredis';
import { RedisKeys, TrainingJobSpec, WorkerInfo } from '@resnet/protocol';

/** Every Redis read and write a worker makes, besides the BullMQ queue itself. */
export class WorkerRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async jobSpec(jobId: string): Promise<TrainingJobSpec> {
    const raw = await this.redis.hget(this.keys.job(jobId), 'spec');
    if (!raw) throw new Error(`job ${jobId} has no spec in Redis (deleted, or a different key prefix)`);
    return JSON.parse(raw) as TrainingJobSpec;
  }

  async weights(jobId: string, version: number): Promise<Buffer> {
    const buf = await this.redis.getBuffer(this.keys.weights(jobId, version));
    if (!buf) throw new Error(`weights version ${version} of job ${jobId} are not in Redis`);
    return buf;
  }

  /** Gradient blobs expire on their own if the coordinator never collects them. */
  async putGradient(key: string, message: Buffer, ttlSeconds: number): Promise<void> {
    await this.redis.set(key, message, 'EX', ttlSeconds);
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
