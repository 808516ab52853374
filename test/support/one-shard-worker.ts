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

type TrainTask = Extract<ShardTask, { kind: 'train' }>;

/** Pushes only a shard's first unit, then never answers: a worker that dies between two of its pushes. */
export class FirstUnitOnly extends ServiceUnits {
  pushed = 0;
  readonly firstPushed: Promise<void>;
  private markPushed!: () => void;

  constructor() {
    super(new UnitClient());
    this.firstPushed = new Promise((resolve) => (this.markPushed = resolve));
  }

  override async push(
    task: TrainTask,
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

/** A straggler's push: every unit of the shard it computed, sent once `late` resolves; what the services answered. */
export class LateCopy extends ServiceUnits {
  /** The shard it computed, and the services' answer to its late copy (null: taken). */
  readonly answered: Promise<{ task: TrainTask; refusal: UnitRefusal | null }>;
  private answer!: (value: { task: TrainTask; refusal: UnitRefusal | null }) => void;

  constructor(private readonly late: (task: TrainTask) => Promise<void>) {
    super(new UnitClient());
    this.answered = new Promise((resolve) => (this.answer = resolve));
  }

  override async push(
    task: TrainTask,
    routes: readonly UnitRoute[],
    messages: readonly Buffer[],
    totals: ShardTotals,
  ): Promise<UnitRefusal | null> {
    await this.late(task);
    const refusal = await super.push(task, routes, messages, totals);
    this.answer({ task, refusal });
    return refusal;
  }
}

/**
 * The real worker's shard processor in this process, for one training shard of a job on summation
 * services, pushing through `units`: it stops renewing the shard's lock as a killed or frozen
 * worker would, so that the shard moves to another worker once the lock expires.
 */
export class OneShardWorker<Units extends ServiceUnits> {
  private readonly worker: Worker<ShardTask, ShardOutcome>;
  private readonly redis: RedisClient;
  private readonly blobs: BlobStore;

  constructor(
    readonly units: Units,
    redisUrl: string,
    prefix: string,
    dataRoot: string,
    lockMs: number,
  ) {
    const connections = RedisConnections.fromUrl(redisUrl, prefix);
    this.redis = connections.client();
    this.blobs = connections.blobs();
    const keys = connections.keys();
    const repo = new WorkerRepository(this.redis, this.blobs, keys);
    const processor = new ShardProcessor(
      repo,
      new WeightsPrefetcher(repo, units),
      new GradientUploader(repo, keys, units),
      dataRoot,
      'one-shard-worker',
    );
    this.worker = new Worker<ShardTask, ShardOutcome>(
      SHARD_QUEUE,
      async (job) => {
        if (job.data.kind !== 'train') throw new Error('the one-shard worker takes training shards only');
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

  /** Drops its Redis connections (its shard was given up long before). */
  async close(): Promise<void> {
    await this.worker.close(true);
    this.blobs.close();
    this.redis.disconnect();
  }
}
