import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ShardOutcome } from '@resnet/protocol';
import { RejectedShardResultError } from '../../errors/shard.errors';
import { ExpectedMessage } from '../shard-result.validator';
import {
  AggregatorError,
  AggregatorMethod,
  AggregatorReply,
  AggregatorThreadData,
} from './aggregator-thread.protocol';
import { PartitionAggregation, PartitionUpdate, StepTotals } from './partition-aggregation';

/**
 * A partition's aggregator in a thread of its own (aggregator.thread.ts), so that the partitions'
 * checksums, checks, folds, updates and encodings run side by side on several cores. The model
 * lives in shared memory; only small calls and answers cross the thread boundary, the big messages
 * travel between the thread and Redis.
 */
export class ThreadedPartitionAggregator implements PartitionAggregation {
  private readonly thread: Worker;
  private readonly pending = new Map<number, { resolve(result: unknown): void; reject(err: Error): void }>();
  private nextId = 0;
  /** Set once the thread is gone: every later call fails with it. */
  private failure: Error | null = null;

  constructor(data: AggregatorThreadData) {
    this.thread = new Worker(path.join(__dirname, 'aggregator.thread.js'), { workerData: data });
    this.thread.on('message', (reply: AggregatorReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(errorOf(reply.error));
      else waiter?.resolve(reply.result);
    });
    const where = `the aggregator thread of partition ${data.partition}`;
    this.thread.on('error', (err) => this.fail(new Error(`${where} failed: ${err.message}`)));
    this.thread.on('exit', (code) => this.fail(new Error(`${where} exited with code ${code}`)));
  }

  beginStep(): Promise<void> {
    return this.call('beginStep', []);
  }

  check(
    shard: number,
    key: string | undefined,
    outcome: ShardOutcome,
    expected: ExpectedMessage,
  ): Promise<void> {
    return this.call('check', [shard, key, outcome, expected]);
  }

  fold(shard: number): Promise<boolean> {
    return this.call('fold', [shard]);
  }

  drop(shard: number): Promise<void> {
    return this.call('drop', [shard]);
  }

  update(update: PartitionUpdate): Promise<{ finite: boolean; totals: StepTotals }> {
    return this.call('update', [update]);
  }

  stage(jobId: string, version: number, fence: number): Promise<void> {
    return this.call('stage', [jobId, version, fence]);
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call('close', []);
    await this.thread.terminate();
  }

  private call<T>(method: AggregatorMethod, args: readonly unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.thread.postMessage({ id, method, args });
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}

function errorOf({ name, message, stack, blame }: AggregatorError): Error {
  if (blame) return new RejectedShardResultError(message, blame);
  const err = new Error(`${name}: ${message}`);
  if (stack) err.stack = stack;
  return err;
}
