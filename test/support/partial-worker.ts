import { Worker } from 'bullmq';
import { SHARD_QUEUE, ShardOutcome, ShardTask, UnitRefusal, UnitRoute } from '@resnet/protocol';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { UnitClient } from '@resnet/unit-transport';
import { GradientUploader } from '../../apps/worker/src/gradient-uploader';
import { ServiceUnits, ShardTotals } from '../../apps/worker/src/service-units';
import { ShardProcessor } from '../../apps/worker/src/shard-processor';
import { WeightsPrefetcher } from '../../apps/worker/src/weights-prefetcher';
import { WorkerRepository } from '../../apps/worker/src/worker.repository';

/** Pushes only a shard's first unit, then never answers: a worker that dies between two of its pushes. */
class FirstUnitOnly extends ServiceUnits {
  pushed = 0;
  firstPushed: Promise<void>;
  private markPushed!: () => void;

  constructor(client: UnitClient) {
    super(client);
    this.firstPushed = new Promise((resolve) => (this.markPushed = resolve));
  }

  override async push(
    task: Extract<ShardTask, { kind: 'train' }>,
    routes: readonly UnitRoute[],
    messages: readonly Buffer[],
    totals: ShardTotals,
  ): Promise<UnitRefusal | null> {
    const refused = await super.push(task, routes.slice(0, 1), messages.slice(0, 1), totals);
    if (refused) throw new Error(`the first unit was refused: ${refused.reason}`);
    this.pushed++;
    this.markPushed();
    return new Promise<never>(() => undefined);
  }
}

/**
 * The real worker's shard processor in this process, for one training shard of a job on summation
 * services: it computes the shard and pushes only its first unit, then stops renewing the shard's
 * lock as a killed worker would, so that the shard moves to another worker once the lock expires.
 */
export class PartialWorker {
  private readonly worker: Worker<ShardTask, ShardOutcome>;
  private readonly units = new FirstUnitOnly(new UnitClient());
  private readonly redis: RedisClient;
  private readonly blobs: BlobStore;

  constructor(redisUrl: string, prefix: string, dataRoot: string, lockMs: number) {
    const connections = RedisConnections.fromUrl(redisUrl, prefix);
    this.redis = connections.client();
    this.blobs = connections.blobs();
    const keys = connections.keys();
    const repo = new WorkerRepository(this.redis, this.blobs, keys);
    const processor = new ShardProcessor(
      repo,
      new WeightsPrefetcher(repo, this.units),
      new GradientUploader(repo, keys, this.units),
      dataRoot,
      'partial-worker',
    );
    this.worker = new Worker<ShardTask, ShardOutcome>(
      SHARD_QUEUE,
      async (job) => {
        if (job.data.kind !== 'train') throw new Error('the partial worker takes training shards only');
        void this.worker.close(true); // one shard only, and no lock renewal: it "dies" with it
        return processor.process(job.data);
      },
      {
        connection: { url: redisUrl, maxRetriesPerRequest: null },
        prefix,
        concurrency: 1,
        lockDuration: lockMs,
      },
    );
  }

  /** Resolves once one unit of its shard has been pushed (and taken). */
  get firstPushed(): Promise<void> {
    return this.units.firstPushed;
  }

  get pushed(): number {
    return this.units.pushed;
  }

  /** Drops its Redis connections (its shard was given up long before). */
  async close(): Promise<void> {
    await this.worker.close(true);
    this.blobs.close();
    this.redis.disconnect();
  }
}
