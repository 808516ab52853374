import { Precision, ShardOutcome, ShardTask } from '@resnet/protocol';
import { InvalidOptionError } from '../../errors/options.errors';
import { RejectedShardResultError } from '../../errors/shard.errors';

/** How the ShardDispatcher treats shards and what it keeps in Redis. */
export interface ShardDispatcherOptions {
  /**
   * How often a shard is tried before its step fails, when its worker reports an error (a crashed
   * or frozen worker's shard is re-delivered separately, as stalled, however often: see the worker's
   * maxStalledCount).
   * @defaultValue 3
   */
  readonly attempts: number;
  /**
   * How many rejected results (corrupt, non-finite, wrong size) a shard may produce before its step fails.
   * @defaultValue 3
   */
  readonly maxRejectedResults: number;
  /**
   * Completed shards are kept for this many runs' worth of shards (a step's, or an evaluation's):
   * enough for a restarted coordinator to collect the step in flight, few enough that Redis memory
   * stays flat over a long job.
   * @defaultValue 2
   */
  readonly keepCompletedRuns: number;
  /**
   * Events the queue's stream keeps (BullMQ's default is 10,000): a few steps' worth, so that Redis
   * memory stays flat. A shard whose events were trimmed before this coordinator read them (it
   * fell behind during a long burst) is not lost: see `lookUpAwaitedMs`.
   * @defaultValue 2000
   */
  readonly queueEventsKept: number;
  /**
   * How often the shards still awaited are looked up directly, in case their events were missed.
   * @defaultValue 10000
   */
  readonly lookUpAwaitedMs: number;
}

export const SHARD_DISPATCHER_DEFAULTS: ShardDispatcherOptions = {
  attempts: 3,
  maxRejectedResults: 3,
  keepCompletedRuns: 2,
  queueEventsKept: 2000,
  lookUpAwaitedMs: 10_000,
};

/** The Nest token of the options the ShardDispatcher is given (a Partial, merged over the defaults). */
export const SHARD_DISPATCHER_OPTIONS = Symbol('SHARD_DISPATCHER_OPTIONS');

/**
 * `options` merged over SHARD_DISPATCHER_DEFAULTS, each checked (as BullMQ's Worker checks its own):
 * every count and interval is a positive integer, else InvalidOptionError names it.
 */
export function shardDispatcherOptions(
  options: Partial<ShardDispatcherOptions> = {},
): ShardDispatcherOptions {
  const merged: ShardDispatcherOptions = { ...SHARD_DISPATCHER_DEFAULTS, ...definedOnly(options) };
  for (const [option, value] of Object.entries(merged)) {
    if (!(option in SHARD_DISPATCHER_DEFAULTS)) {
      throw new InvalidOptionError(
        'ShardDispatcherOptions',
        option,
        value,
        `one of ${Object.keys(SHARD_DISPATCHER_DEFAULTS).join(', ')} (no such option)`,
      );
    }
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new InvalidOptionError('ShardDispatcherOptions', option, value, 'a positive integer');
    }
  }
  return merged;
}

/** An option set to undefined keeps its default, as it would had it been left out. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** One run of shards: a step's, or an evaluation's. */
export interface ShardRunOptions {
  readonly tasks: readonly ShardTask[];
  /**
   * The job's precision, which picks the queue: only workers that compute it take the shards.
   * @defaultValue 'fp32'
   */
  readonly precision?: Precision;
  /**
   * Hears each outcome as its shard completes. Throwing RejectedShardResultError has the shard
   * computed again; any other error fails the run.
   */
  readonly onOutcome: (task: ShardTask, outcome: ShardOutcome) => Promise<void> | void;
  /** Aborting stops waiting and removes the run's shards from the queue. */
  readonly signal: AbortSignal;
  /**
   * Hears of each rejected result before its shard runs again.
   * @defaultValue nothing
   */
  readonly onRejected?: (outcome: ShardOutcome, err: RejectedShardResultError) => Promise<void> | void;
  /**
   * Runs once the tasks are on the queue.
   * @defaultValue nothing
   */
  readonly onEnqueued?: () => Promise<void> | void;
}
