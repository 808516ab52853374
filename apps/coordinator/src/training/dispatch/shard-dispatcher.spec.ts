import * as assert from 'node:assert/strict';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Precision, ShardOutcome, ShardTask } from '@resnet/protocol';
import { RejectedShardResultError, ShardFailedError } from '../../errors/shard.errors';
import { EndedShard, ShardJobOptions, ShardQueue, ShardQueueListener } from '../../repositories/shard-queue';
import { WorkerRegistryRepository } from '../../repositories/worker-registry.repository';
import { InvalidOptionError } from '../../errors/options.errors';
import { ShardDispatcher } from './shard-dispatcher';
import {
  SHARD_DISPATCHER_DEFAULTS,
  SHARD_DISPATCHER_OPTIONS,
  ShardDispatcherOptions,
} from './shard-dispatcher.options';
import { ShardShares } from './shard-shares';

/** A queue whose workers complete each shard as soon as it is added; records what was asked of it. */
class InstantShardQueue implements Partial<ShardQueue> {
  readonly added: { id: string; options: ShardJobOptions }[] = [];
  woken = 0;
  private listener?: ShardQueueListener;

  listen(listener: ShardQueueListener): void {
    this.listener = listener;
  }

  async add(
    _precision: Precision,
    _tasks: readonly ShardTask[],
    ids: readonly string[],
    options: ShardJobOptions,
  ): Promise<void> {
    for (const id of ids) {
      this.added.push({ id, options });
      const outcome: ShardOutcome = { workerId: 'w1', lossSum: 1, correct: 1, count: 1, computeMs: 1 };
      setImmediate(() => this.listener?.completed(id, outcome));
    }
  }

  async wakeWorkers(_precision: Precision, count: number): Promise<void> {
    this.woken += count;
  }

  async remove(): Promise<void> {}

  async ended(): Promise<EndedShard | undefined> {
    return undefined;
  }

  as(): ShardQueue {
    return this as unknown as ShardQueue;
  }
}

const tasks: ShardTask[] = [0, 1].map((shard) => ({ kind: 'train', jobId: 'j', step: 4, shard }));

function dispatcherWith(queue: InstantShardQueue, options = {}): ShardDispatcher {
  const dispatcher = new ShardDispatcher(
    queue.as(),
    new ShardShares(),
    {} as WorkerRegistryRepository,
    options,
  );
  dispatcher.onModuleInit();
  return dispatcher;
}

/** The dispatcher as Nest builds it, given `options` under SHARD_DISPATCHER_OPTIONS (or nothing). */
async function injectedDispatcher(options?: Partial<ShardDispatcherOptions>): Promise<ShardDispatcher> {
  @Module({
    providers: [
      ShardDispatcher,
      ShardShares,
      { provide: ShardQueue, useValue: new InstantShardQueue() },
      { provide: WorkerRegistryRepository, useValue: {} },
      ...(options ? [{ provide: SHARD_DISPATCHER_OPTIONS, useValue: options }] : []),
    ],
  })
  class DispatchModule {}
  const context = await NestFactory.createApplicationContext(DispatchModule, {
    logger: false,
    abortOnError: false,
  });
  const dispatcher = context.get(ShardDispatcher);
  await context.close();
  return dispatcher;
}

describe('ShardDispatcher', () => {
  it('takes its options from the SHARD_DISPATCHER_OPTIONS provider, over the defaults, and refuses bad ones', async () => {
    assert.deepEqual((await injectedDispatcher()).options, SHARD_DISPATCHER_DEFAULTS);
    assert.equal((await injectedDispatcher({ attempts: 9 })).options.attempts, 9);
    await assert.rejects(injectedDispatcher({ lookUpAwaitedMs: -5 }), InvalidOptionError);
  });

  it('enqueues every shard with the configured attempts, wakes the other workers, and hands back each outcome', async () => {
    const queue = new InstantShardQueue();
    const dispatcher = dispatcherWith(queue, { attempts: 7, keepCompletedRuns: 3 });
    const heard: number[] = [];
    await dispatcher.run({
      tasks,
      onOutcome: (task) => void heard.push(task.shard),
      signal: new AbortController().signal,
    });
    assert.deepEqual(heard.sort(), [0, 1]);
    assert.deepEqual(
      queue.added.map((a) => [a.id, a.options.attempts, a.options.keepCompleted]),
      [
        ['j_train_4_0', 7, 6],
        ['j_train_4_1', 7, 6],
      ],
    );
    assert.equal(queue.woken, 1);
  });

  it('recomputes a rejected result under a fresh id, and fails the shard at maxRejectedResults', async () => {
    const queue = new InstantShardQueue();
    const dispatcher = dispatcherWith(queue, { maxRejectedResults: 2 });
    const rejectedIds: string[] = [];
    await assert.rejects(
      dispatcher.run({
        tasks: tasks.slice(0, 1),
        onOutcome: () => {
          throw new RejectedShardResultError('corrupt');
        },
        onRejected: () => void rejectedIds.push('rejected'),
        signal: new AbortController().signal,
      }),
      (err: Error) => err instanceof ShardFailedError && /rejected 2 times; last: corrupt/.test(err.message),
    );
    assert.deepEqual(
      queue.added.map((a) => a.id),
      ['j_train_4_0', 'j_train_4_0_redo1'],
    );
    assert.equal(rejectedIds.length, 2);
  });
});
