import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Job, Queue, QueueEvents } from 'bullmq';
import { SHARD_QUEUE, ShardOutcome, ShardTask, shardTaskId } from '@resnet/protocol';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';

/** How often a shard is tried before its step fails (a crashed worker's shard is re-delivered separately, as stalled). */
const SHARD_ATTEMPTS = 3;

export class ShardFailedError extends Error {
  override readonly name = 'ShardFailedError';
}

interface Waiter {
  resolve(outcome: ShardOutcome): void;
  reject(err: Error): void;
}

/**
 * Puts shard tasks on the BullMQ queue and hands back each outcome as soon as its shard completes.
 * Task ids are derived from (job, step, shard), so enqueueing the same step again — after a
 * coordinator restart, say — neither duplicates work nor loses results already computed.
 */
@Injectable()
export class ShardDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ShardDispatcher.name);
  private events!: QueueEvents;
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    @InjectQueue(SHARD_QUEUE) private readonly queue: Queue<ShardTask, ShardOutcome>,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.events = new QueueEvents(SHARD_QUEUE, {
      connection: { url: this.config.redisUrl, maxRetriesPerRequest: null },
      prefix: this.config.redisPrefix,
    });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const outcome = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
      this.settle(jobId, (w) => w.resolve(outcome as ShardOutcome));
    });
    this.events.on('failed', ({ jobId, failedReason }) => {
      void this.queue.getJob(jobId).then(async (job) => {
        // Attempts that will be retried also emit 'failed'; only a job left in the failed state ends its step.
        if (job && (await job.isFailed())) this.settle(jobId, (w) => w.reject(new ShardFailedError(`shard ${jobId} failed: ${failedReason}`)));
      });
    });
    await this.events.waitUntilReady();
  }

  async onModuleDestroy(): Promise<void> {
    await this.events.close();
  }

  /** Enqueues the tasks and calls `onOutcome` for each as it completes; resolves when all have. */
  async run(
    tasks: readonly ShardTask[],
    onOutcome: (task: ShardTask, outcome: ShardOutcome) => Promise<void> | void,
    signal: AbortSignal,
  ): Promise<void> {
    const ids = tasks.map(shardTaskId);
    const outcomes = ids.map((id) => new Promise<ShardOutcome>((resolve, reject) => this.waiters.set(id, { resolve, reject })));
    const onAbort = (): void => {
      for (const id of ids) this.settle(id, (w) => w.reject(signal.reason as Error));
      void Promise.all(ids.map((id) => this.queue.remove(id))).catch((err: Error) =>
        this.logger.warn(`could not remove shards of a cancelled step: ${err.message}`),
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.queue.addBulk(
        tasks.map((task, i) => ({
          name: task.kind,
          data: task,
          opts: {
            jobId: ids[i],
            attempts: SHARD_ATTEMPTS,
            backoff: { type: 'fixed', delay: 500 },
            removeOnComplete: { age: 600 },
            removeOnFail: { age: 24 * 3600 },
          },
        })),
      );
      await Promise.all(ids.map((id) => this.catchUp(id)));
      await Promise.all(outcomes.map((p, i) => p.then((o) => onOutcome(tasks[i], o))));
    } finally {
      signal.removeEventListener('abort', onAbort);
      for (const id of ids) this.waiters.delete(id);
    }
  }

  /** A shard may have finished before this coordinator listened (it restarted): read its state directly. */
  private async catchUp(id: string): Promise<void> {
    const job: Job<ShardTask, ShardOutcome> | undefined = await this.queue.getJob(id);
    if (!job) return;
    const state = await job.getState();
    if (state === 'completed') this.settle(id, (w) => w.resolve(job.returnvalue));
    if (state === 'failed') this.settle(id, (w) => w.reject(new ShardFailedError(`shard ${id} failed: ${job.failedReason}`)));
  }

  private settle(id: string, action: (w: Waiter) => void): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return; // a late or duplicate event for a shard no step is waiting on
    this.waiters.delete(id);
    action(waiter);
  }
}
