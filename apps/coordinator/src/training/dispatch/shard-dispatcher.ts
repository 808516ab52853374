import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import {
  DEFAULT_PRECISION,
  Precision,
  ShardOutcome,
  ShardTask,
  shardTaskId,
  WORKER_ALIVE_WITHIN_MS,
} from '@resnet/protocol';
import { LeadershipLostError } from '../../errors/leadership.errors';
import { RejectedShardResultError, ShardFailedError } from '../../errors/shard.errors';
import { ShardQueue } from '../../repositories/shard-queue';
import { WorkerRegistryRepository } from '../../repositories/worker-registry.repository';
import {
  SHARD_DISPATCHER_OPTIONS,
  ShardDispatcherOptions,
  shardDispatcherOptions,
  ShardRunOptions,
} from './shard-dispatcher.options';
import { ShardShares } from './shard-shares';

interface Waiter {
  /** Whose queue the shard is on. */
  readonly precision: Precision;
  resolve(outcome: ShardOutcome): void;
  reject(err: Error): void;
}

/**
 * Puts shard tasks on the queue and hands back each outcome as soon as its shard completes.
 * Task ids are derived from (job, step, shard), so enqueueing the same step again — after a
 * coordinator restart, say — neither duplicates work nor loses results already computed: the queue
 * reports the ids it already holds as duplicated, and only those are looked up, so a normal step
 * costs one round trip to enqueue. A result the caller rejects is recomputed under a fresh id.
 * A job's shards go on its precision's queue, which only the workers computing it consume.
 */
@Injectable()
export class ShardDispatcher implements OnModuleInit {
  private readonly logger = new Logger(ShardDispatcher.name);
  private readonly waiters = new Map<string, Waiter>();
  readonly options: ShardDispatcherOptions;

  constructor(
    private readonly queue: ShardQueue,
    private readonly shares: ShardShares,
    private readonly workers: WorkerRegistryRepository,
    @Optional() @Inject(SHARD_DISPATCHER_OPTIONS) options: Partial<ShardDispatcherOptions> = {},
  ) {
    this.options = shardDispatcherOptions(options);
  }

  onModuleInit(): void {
    this.queue.listen({
      completed: (id, outcome) => this.settle(id, (w) => w.resolve(outcome)),
      failed: (id) => void this.catchUp(id),
      duplicated: (id) => void this.catchUp(id),
    });
  }

  /**
   * Enqueues the tasks and hands each outcome to `onOutcome` as it completes; resolves when all
   * have been taken, with the time it took to put the tasks on the queue.
   */
  async run({
    tasks,
    onOutcome,
    signal,
    onRejected,
    onEnqueued,
    precision = DEFAULT_PRECISION,
  }: ShardRunOptions): Promise<{ enqueueMs: number }> {
    const { maxRejectedResults, lookUpAwaitedMs } = this.options;
    const active = new Set<string>();
    const onAbort = (): void => {
      for (const id of active) this.settle(id, (w) => w.reject(signal.reason as Error));
      // A deposed leader leaves the shards be: its successor awaits the very same ids.
      if (signal.reason instanceof LeadershipLostError) return;
      void this.queue
        .remove(precision, [...active])
        .catch((err: Error) => this.logger.warn(`could not remove shards of a stopped step: ${err.message}`));
    };
    signal.throwIfAborted();
    signal.addEventListener('abort', onAbort, { once: true });
    let lookUp: NodeJS.Timeout | undefined;
    try {
      const ids = tasks.map(shardTaskId);
      const first = ids.map((id) => this.await(id, precision, active));
      // Shards beyond the job's share of the workers wait here, each enqueued as another completes.
      let enqueued = await this.shareOfWorkers(tasks, precision);
      const enqueueNext = async (): Promise<void> => {
        if (enqueued >= tasks.length) return;
        const i = enqueued++;
        await this.enqueue(precision, [tasks[i]], [ids[i]], tasks.length);
      };
      const enqueueStarted = performance.now();
      await this.enqueue(precision, tasks.slice(0, enqueued), ids.slice(0, enqueued), tasks.length);
      const enqueueMs = performance.now() - enqueueStarted;
      await onEnqueued?.();
      lookUp = setInterval(() => active.forEach((id) => void this.catchUp(id)), lookUpAwaitedMs);
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
              const retried = this.await(retryId, precision, active);
              await this.enqueue(precision, [task], [retryId], tasks.length);
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

  /** How many of the run's shards may be on the queue at once: all of them unless other jobs share the workers. */
  private async shareOfWorkers(tasks: readonly ShardTask[], precision: Precision): Promise<number> {
    const jobId = tasks[0]?.jobId;
    if (jobId === undefined || !this.shares.shared(jobId)) return tasks.length;
    const now = Date.now();
    // Only the workers that compute the run's precision share its queue.
    const alive = (await this.workers.heartbeats()).filter(
      (w) => now - w.lastSeen <= WORKER_ALIVE_WITHIN_MS && w.precisions.includes(precision),
    );
    return Math.min(tasks.length, this.shares.quota(jobId, alive.length));
  }

  /** Registers interest in a shard before it is enqueued, so no completion can slip past. */
  private await(id: string, precision: Precision, active: Set<string>): Promise<ShardOutcome> {
    active.add(id);
    const outcome = new Promise<ShardOutcome>((resolve, reject) =>
      this.waiters.set(id, { precision, resolve, reject }),
    );
    // Rejected (on abort) before anyone awaits it is not an unhandled rejection: run() awaits it later.
    outcome.catch(() => undefined);
    return outcome;
  }

  /** `runSize`: shards in the whole run, which sizes how many completed shards the queue keeps. */
  private async enqueue(
    precision: Precision,
    tasks: readonly ShardTask[],
    ids: readonly string[],
    runSize: number,
  ): Promise<void> {
    const { attempts, keepCompletedRuns } = this.options;
    await this.queue.add(precision, tasks, ids, { attempts, keepCompleted: keepCompletedRuns * runSize });
    // The queue wakes one waiting worker per add, and each woken worker wakes the next: K shards
    // would start one round trip after another. Waking the others at once saves those round trips.
    await this.queue.wakeWorkers(precision, tasks.length - 1);
  }

  /** Reads a shard's state directly, for completions that may have happened while no one listened. */
  private async catchUp(id: string): Promise<void> {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    const ended = await this.queue.ended(waiter.precision, id);
    if (ended?.state === 'completed') this.settle(id, (w) => w.resolve(ended.outcome));
    // Attempts that will be retried also emit 'failed'; only a job left in the failed state ends its step.
    if (ended?.state === 'failed')
      this.settle(id, (w) => w.reject(new ShardFailedError(`shard ${id} failed: ${ended.reason}`)));
  }

  private settle(id: string, action: (w: Waiter) => void): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return; // a late or duplicate event for a shard no step is waiting on
    this.waiters.delete(id);
    action(waiter);
  }
}
