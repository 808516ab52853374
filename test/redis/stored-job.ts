import { Redis } from 'ioredis';
import { mulberry32 } from '@resnet/data';
import { initialWeights, ModelWeights } from '@resnet/model';
import { RedisKeys } from '@resnet/protocol';
import { foldGroupOf, partitionedModel, PartitionedModelCodec, TrainingJobSpec } from '@resnet/job';
import { BlobConnection } from '@resnet/redis-blobs';
import { EmbeddedRedis } from '@resnet/local-cluster';
import { FencedWriter } from '../../apps/coordinator/src/repositories/fenced-writer';
import { JobRepository } from '../../apps/coordinator/src/repositories/job.repository';
import { PartitionAggregator } from '../../apps/coordinator/src/training/aggregation/partition-aggregator';
import { layoutsFor } from '../support/test-job-spec';

/**
 * A JobRepository on a private redis-server with job `j` of `spec` created at version 0 from
 * randomModel(1), as the repository-level specs here need it.
 */
export class StoredJob {
  readonly keys = new RedisKeys('t');
  readonly layouts;
  readonly partitions;
  private constructor(
    readonly spec: TrainingJobSpec,
    readonly server: EmbeddedRedis,
    readonly redis: Redis,
    readonly blobs: BlobConnection,
    readonly jobs: JobRepository,
  ) {
    this.layouts = layoutsFor(spec);
    this.partitions = partitionedModel(spec, this.layouts).partitions;
  }

  static async start(spec: TrainingJobSpec): Promise<StoredJob> {
    const server = await EmbeddedRedis.start();
    const redis = new Redis(server.url);
    const blobs = BlobConnection.open(server.url);
    const keys = new RedisKeys('t');
    return new StoredJob(
      spec,
      server,
      redis,
      blobs,
      new JobRepository(redis, blobs, keys, new FencedWriter(redis, keys)),
    );
  }

  async stop(): Promise<void> {
    this.blobs.close();
    this.redis.disconnect();
    await this.server.destroy();
  }

  /** Empties Redis, makes `fence` the leader's token and creates the job at version 0. */
  async reset(fence = 1): Promise<void> {
    await this.redis.flushall();
    await this.redis.set(this.keys.leaderToken(), String(fence));
    const { weights, velocity } = this.randomModel(1);
    await this.jobs.create(
      'j',
      this.spec,
      PartitionedModelCodec.encodeWeights(this.partitions, weights, { version: 0 }),
      PartitionedModelCodec.encodeVelocity(this.partitions, velocity),
      { priority: 0, weight: 1 },
    );
  }

  randomModel(seed: number): { weights: ModelWeights; velocity: Float32Array } {
    const random = mulberry32(seed);
    return {
      weights: initialWeights(this.layouts, random),
      velocity: Float32Array.from({ length: this.layouts.params.size }, () => random()),
    };
  }

  /** What each partition's aggregator stages of `version` when the model is randomModel(seed). */
  async stage(seed: number, version: number, fence: number): Promise<void> {
    const { weights, velocity } = this.randomModel(seed);
    const memory = { ...weights, velocity };
    await Promise.all(
      this.partitions.map((p) =>
        new PartitionAggregator(
          p,
          this.partitions.length,
          this.spec.shardsPerStep,
          foldGroupOf(this.spec),
          memory,
          this.blobs,
          this.keys,
        ).stage('j', version, fence),
      ),
    );
  }

  async decodedWeights(version: number): Promise<ModelWeights> {
    return PartitionedModelCodec.decodeWeights(
      this.partitions,
      this.layouts,
      await this.jobs.weights('j', this.spec, version),
    );
  }

  /** Every key in Redis with its value's type and contents, to show that a refused write changed nothing. */
  async snapshot(): Promise<Record<string, string>> {
    const keys = (await this.redis.keys('*')).sort();
    const entries = await Promise.all(
      keys.map(async (key) => {
        const type = await this.redis.type(key);
        const value =
          type === 'string'
            ? ((await this.redis.getBuffer(key))?.toString('base64') ?? '')
            : type === 'hash'
              ? JSON.stringify(await this.redis.hgetall(key))
              : type === 'list'
                ? JSON.stringify(await this.redis.lrange(key, 0, -1))
                : JSON.stringify(await this.redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES'));
        return [key, `${type}:${value}`] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}
