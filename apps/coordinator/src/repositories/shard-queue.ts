import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { Precision, PRECISIONS, SHARD_QUEUE, ShardOutcome, shardQueueFor, ShardTask } from '@resnet/protocol';
import { REDIS } from './redis.providers';
import { logOutages } from './redis-outages';

/** What the shard queue reports as shards end; each is heard by whoever called `listen`. */
export interface ShardQueueListener {
  completed(id: string, outcome: ShardOutcome): void;
  /** An attempt failed (it may be retried: look the shard up to know). */
  failed(id: string): void;
  /** The id was already on the queue (a restarted coordinator, a resumed job): it may be done. */
  duplicated(id: string): void;
}

/** How long BullMQ keeps a shard and how often it tries it. */
export interface ShardJobOptions {
  readonly attempts: number;
  /** Completed shards the queue keeps. */
  readonly keepCompleted: number;
}

/** A shard that has ended, as read back from the queue. */
export type EndedShard =
  | { readonly state: 'completed'; readonly outcome: ShardOutcome }
  | { readonly state: 'failed'; readonly reason: string };

/**
 * The BullMQ shard queues and their event streams: adds, removes and looks up shards, and hears
 * them end. Each precision has its own queue (shardQueueFor), which only the workers computing it
 * consume; a shard's id is unique across them.
 */
@Injectable()
export class ShardQueue implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ShardQueue.name);
  private readonly queues: Record<Precision, Queue<ShardTask, ShardOutcome>>;
  private events: QueueEvents[] = [];
  private listener?: ShardQueueListener;

  constructor(
    @InjectQueue(SHARD_QUEUE) fp32Queue: Queue<ShardTask, ShardOutcome>,
    @InjectQueue(shardQueueFor('bf16')) bf16Queue: Queue<ShardTask, ShardOutcome>,
    private readonly connections: RedisConnections,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.queues = { fp32: fp32Queue, bf16: bf16Queue };
  }

  async onModuleInit(): Promise<void> {
    this.events = PRECISIONS.map((precision) => {
      const queue = this.queues[precision];
      const events = new QueueEvents(queue.name, {
        connection: this.connections.bullConnection(this.redis),
        prefix: this.connections.prefix,
      });
      events.on('completed', ({ jobId, returnvalue }) => {
        const outcome = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
        this.listener?.completed(jobId, outcome as ShardOutcome);
      });
      events.on('failed', ({ jobId }) => this.listener?.failed(jobId));
      events.on('duplicated', ({ jobId }) => this.listener?.duplicated(jobId));
      logOutages(events, `${queue.name} queue events`, this.logger);
      logOutages(queue, `${queue.name} queue`, this.logger);
      return events;
    });
    await Promise.all(this.events.map((events) => events.waitUntilReady()));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.events.map((events) => closeEvents(events)));
  }

  /** The one listener to the queue's events (the dispatcher). */
  listen(listener: ShardQueueListener): void {
    this.listener = listener;
  }

  /** Resolves once the queues' connections are up again, e.g. after a Redis restart. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([
      ...this.events.map((events) => events.waitUntilReady()),
      ...Object.values(this.queues).map((queue) => queue.waitUntilReady()),
    ]);
  }

  async add(
    precision: Precision,
    tasks: readonly ShardTask[],
    ids: readonly string[],
    options: ShardJobOptions,
  ): Promise<void> {
    const queue = this.queues[precision];
    // One add per task rather than addBulk: addBulk builds an ioredis pipeline, whose constructor copies
    // every BullMQ script onto it, and costs more CPU than the writes it saves (≈ 0.7 against 0.3 ms for
    // one task here). A crash between two adds leaves a partial step, which the next enqueue completes.
    await Promise.all(
      tasks.map((task, i) =>
        queue.add(task.kind, task, {
          jobId: ids[i],
          attempts: options.attempts,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: { age: 600, count: options.keepCompleted },
          removeOnFail: { age: 24 * 3600 },
        }),
      ),
    );
  }

  async remove(precision: Precision, ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.queues[precision].remove(id)));
  }

  /**
   * Wakes `count` more waiting workers. A waiting worker blocks on the queue's marker set and BullMQ
   * adds one marker per add; distinct markers wake as many workers at once. (A marker no worker
   * takes is a harmless wake-up later.)
   */
  async wakeWorkers(precision: Precision, count: number): Promise<void> {
    if (count <= 0) return;
    await this.redis.zadd(
      this.queues[precision].keys.marker,
      ...Array.from({ length: count }, (_unused, i) => [0, `wake-${i + 1}`]).flat(),
    );
  }

  /** The shard if it has ended; undefined while it is still to run or running. */
  async ended(precision: Precision, id: string): Promise<EndedShard | undefined> {
    const queue = this.queues[precision];
    // State first: a job read before its state could still be unfinished, without a return value.
    const state = await queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed') return undefined;
    const job = await queue.getJob(id);
    if (!job) return undefined;
    return state === 'completed' ? { state, outcome: job.returnvalue } : { state, reason: job.failedReason };
  }
}

async function closeEvents(events: QueueEvents): Promise<void> {
  // close() waits for a clean disconnect, which never comes while Redis is unreachable.
  const closed = events.close();
  const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
  if ((await Promise.race([closed, timedOut])) === 'timeout') await events.disconnect();
}
