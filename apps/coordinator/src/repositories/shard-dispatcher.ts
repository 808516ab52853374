import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Job, Queue, QueueEvents } from 'bullmq';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import {
  DEFAULT_PRECISION,
  Precision,
  PRECISIONS,
  SHARD_QUEUE,
  ShardOutcome,
  shardQueueFor,
  ShardTask,
  shardTaskId,
  WORKER_ALIVE_WITHIN_MS,
} from '@resnet/protocol';
import { LeadershipLostError } from '../errors/leadership.errors';
import { RejectedShardResultError, ShardFailedError } from '../errors/shard.errors';
import { REDIS } from './redis.providers';
import { logOutages } from './redis-outages';
import { SHARD_DISPATCHER_DEFAULTS, ShardRunOptions } from './shard-dispatcher.options';
import { ShardShares } from './shard-shares';
import { WorkerRegistryRepository } from './worker-registry.repository';

const { attempts, maxRejectedResults, keepCompletedRuns, lookUpAwaitedMs } = SHARD_DISPATCHER_DEFAULTS;

interface Waiter {
  resolve(outcome: ShardOutcome): void;
  reject(err: Error): void;
}

/**
 * Puts shard tasks on the BullMQ queue and hands back each outcome as soon as its shard completes.
 * Task ids are derived from (job, step, shard), so enqueueing the same step again — after a
 * coordinator restart, say — neither duplicates work nor loses results already computed: BullMQ
 * reports the ids it already holds as duplicated, and only those are looked up, so a normal step
 * costs one round trip to enqueue. A result the caller rejects is recomputed under a fresh id.
 * Each precision has its own queue (shardQueueFor), which only the workers computing it consume.
 */
@Injectable()
export class ShardDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ShardDispatcher.name);
  private events: QueueEvents[] = [];
  private readonly queues: Record<Precision, Queue<ShardTask, ShardOutcome>>;
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    @InjectQueue(SHARD_QUEUE) fp32Queue: Queue<ShardTask, ShardOutcome>,
    @InjectQueue(shardQueueFor('bf16')) bf16Queue: Queue<ShardTask, ShardOutcome>,
    private readonly connections: RedisConnections,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly shares: ShardShares,
    private readonly workers: WorkerRegistryRepository,
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
        this.settle(jobId, (w) => w.resolve(outcome as ShardOutcome));
      });
      events.on('failed', ({ jobId }) => void this.catchUp(queue, jobId));
      // The shard was already on the queue (a restarted coordinator, a resumed job): it may be done.
      events.on('duplicated', ({ jobId }) => void this.catchUp(queue, jobId));
      logOutages(events, `${queue.name} queue events`, this.logger);
      logOutages(queue, `${queue.name} queue`, this.logger);
      return events;
    });
    await Promise.all(this.events.map((events) => events.waitUntilReady()));
  }

  /** Resolves once the queues' connections are up again, e.g. after a Redis restart. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([
      ...this.events.map((events) => events.waitUntilReady()),
      ...Object.values(this.queues).map((queue) => queue.waitUntilReady()),
    ]);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.events.map((events) => this.closeEvents(events)));
  }

  private async closeEvents(events: QueueEvents): Promise<void> {
    // close() waits for a clean disconnect, which never comes while Redis is unreachable.
    const closed = events.close();
    const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
    if ((await Promise.race([closed, timedOut])) === 'timeout') await events.disconnect();
  }

  /**
   * Enqueues the tasks and hands each outcome to `onOutcome` as it completes; resolves when all
   * have been taken, with the time it took to put the tasks on the queue.
   */
  async run({
    tasks,
    precision = DEFAULT_PRECISION,
    onOutcome,
    signal,
    onRejected,
    onEnqueued,
  }: ShardRunOptions): Promise<{ enqueueMs: number }> {
    const queue = this.queues[precision];
    const active = new Set<string>();
    const onAbort = (): void => {
      for (const id of active) this.settle(id, (w) => w.reject(signal.reason as Error));
      // A deposed leader leaves the shards be: its successor awaits the very same ids.
      if (signal.reason instanceof LeadershipLostError) return;
      void Promise.all([...active].map((id) => queue.remove(id))).catch((err: Error) =>
        this.logger.warn(`could not remove shards of a stopped step: ${err.message}`),
      );
    };
    signal.throwIfAborted();
    signal.addEventListener('abort', onAbort, { once: true });
    let lookUp: NodeJS.Timeout | undefined;
    try {
      const ids = tasks.map(shardTaskId);
      const first = ids.map((id) => this.await(id, active));
      // Shards beyond the job's share of the workers wait here, each enqueued as another completes.
      let enqueued = await this.shareOfWorkers(tasks, precision);
      const enqueueNext = async (): Promise<void> => {
        if (enqueued >= tasks.length) return;
        const i = enqueued++;
        await this.enqueue(queue, [tasks[i]], [ids[i]], tasks.length);
      };
      const enqueueStarted = performance.now();
      await this.enqueue(queue, tasks.slice(0, enqueued), ids.slice(0, enqueued), tasks.length);
      const enqueueMs = performance.now() - enqueueStarted;
      await onEnqueued?.();
      lookUp = setInterval(() => active.forEach((id) => void this.catchUp(queue, id)), lookUpAwaitedMs);
      await Promise.all(
        tasks.map(async (task, i) => {
          let outcome = await first[i];
          await enqueueNext();
          let rejected = 0;
          for (let redo = 1; ; redo++) {
            try {
              return await onOutcome(task, outcome);
            } catch (err) {
              if (!(err instanceof RejectedShardResultError)) throw err;
              await onRejected?.(outcome, err);
              // Stopped while this result was checked: the abort settled only the waiters it saw,
              // so a redo registered now would wait forever (and hold up the coordinator's shutdown).
              signal.throwIfAborted();
              if (err.blame.countsAgainstShard && ++rejected >= maxRejectedResults) {
                throw new ShardFailedError(
                  `shard ${ids[i]} was rejected ${maxRejectedResults} times; last: ${err.message}`,
                );
              }
              this.logger.warn(
                `rejected shard ${ids[i]} from worker ${outcome.workerId}: ${err.message}; recomputing`,
              );
              const retryId = `${ids[i]}_redo${redo}`;
              const retried = this.await(retryId, active);
              await this.enqueue(queue, [task], [retryId], tasks.length);
              outcome = await retried;
            }
          }
        }),
      );
      return { enqueueMs };
    } finally {
      clearInterval(lookUp);
      signal.removeEventListener('abort', onAbort);
      for (const id of active) this.waiters.delete(id);
    }
  }

  /**
   * How many of the run's shards may be on the queue at once: all of them unless other jobs share
   * the workers (those that compute the run's precision).
   */
  private async shareOfWorkers(tasks: readonly ShardTask[], precision: Precision): Promise<number> {
    const jobId = tasks[0]?.jobId;
    if (jobId === undefined || !this.shares.shared(jobId)) return tasks.length;
    const now = Date.now();
    const alive = (await this.workers.heartbeats()).filter(
      (w) => now - w.lastSeen <= WORKER_ALIVE_WITHIN_MS && w.precisions.includes(precision),
    );
    return Math.min(tasks.length, this.shares.quota(jobId, alive.length));
  }

  /** Registers interest in a shard before it is enqueued, so no completion can slip past. */
  private await(id: string, active: Set<string>): Promise<ShardOutcome> {
    active.add(id);
    const outcome = new Promise<ShardOutcome>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    // Rejected (on abort) before anyone awaits it is not an unhandled rejection: run() awaits it later.
    outcome.catch(() => undefined);
    return outcome;
  }

  /** `runSize`: shards in the whole run, which sizes how many completed shards the queue keeps. */
  private async enqueue(
    queue: Queue<ShardTask, ShardOutcome>,
    tasks: readonly ShardTask[],
    ids: readonly string[],
    runSize: number,
  ): Promise<void> {
    // One add per task rather than addBulk: addBulk builds an ioredis pipeline, whose constructor copies
    // every BullMQ script onto it, and costs more CPU than the writes it saves (≈ 0.7 against 0.3 ms for
    // one task here). A crash between two adds leaves a partial step, which the next enqueue completes.
    await Promise.all(
      tasks.map((task, i) =>
        queue.add(task.kind, task, {
          jobId: ids[i],
          attempts,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: { age: 600, count: keepCompletedRuns * runSize },
          removeOnFail: { age: 24 * 3600 },
        }),
      ),
    );
    // A waiting worker blocks on the queue's marker set and BullMQ adds one marker, so each woken
    // worker wakes the next: K shards would start one round trip after another. A distinct marker
    // per shard wakes as many workers at once. (A marker no worker takes is a harmless wake-up later.)
    if (tasks.length > 1) {
      await this.redis.zadd(queue.keys.marker, ...tasks.slice(1).flatMap((_task, i) => [0, `wake-${i + 1}`]));
    }
  }

  /** Reads a shard's state directly, for completions that may have happened while no one listened. */
  private async catchUp(queue: Queue<ShardTask, ShardOutcome>, id: string): Promise<void> {
    if (!this.waiters.has(id)) return;
    // State first: a job read before its state could still be unfinished, without a return value.
    const state = await queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed') return; // its own event is yet to come
    const job: Job<ShardTask, ShardOutcome> | undefined = await queue.getJob(id);
    if (!job) return;
    if (state === 'completed') this.settle(id, (w) => w.resolve(job.returnvalue));
    // Attempts that will be retried also emit 'failed'; only a job left in the failed state ends its step.
    if (state === 'failed')
      this.settle(id, (w) => w.reject(new ShardFailedError(`shard ${id} failed: ${job.failedReason}`)));
  }

  private settle(id: string, action: (w: Waiter) => void): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return; // a late or duplicate event for a shard no step is waiting on
    this.waiters.delete(id);
    action(waiter);
  }
}
