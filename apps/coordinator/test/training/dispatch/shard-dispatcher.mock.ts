import { ShardOutcome } from '@resnet/protocol';
import { RejectedShardResultError } from '../../../src/errors/shard.errors';
import { ShardDispatcher } from '../../../src/training/dispatch/shard-dispatcher';
import { ShardRunOptions } from '../../../src/training/dispatch/shard-dispatcher.options';

/** What a shard's worker answers: an outcome, or a function of the task for each try. */
export type ScriptedOutcome = (shard: number, attempt: number) => ShardOutcome;

/**
 * Runs shards at once, in order, with outcomes from a script; like the real dispatcher it calls
 * onEnqueued first, and runs a shard again when its outcome is rejected.
 */
export class FakeShardDispatcher implements Partial<ShardDispatcher> {
  readonly runs: ShardRunOptions[] = [];
  readonly rejections: { shard: number; err: RejectedShardResultError }[] = [];

  constructor(private readonly script: ScriptedOutcome) {}

  async run(options: ShardRunOptions): Promise<{ enqueueMs: number }> {
    this.runs.push(options);
    await options.onEnqueued?.();
    for (const task of options.tasks) {
      for (let attempt = 1; ; attempt++) {
        const outcome = this.script(task.shard, attempt);
        try {
          await options.onOutcome(task, outcome);
          break;
        } catch (err) {
          if (!(err instanceof RejectedShardResultError) || attempt >= 5) throw err;
          this.rejections.push({ shard: task.shard, err });
          await options.onRejected?.(outcome, err);
        }
      }
    }
    return { enqueueMs: 0 };
  }

  as(): ShardDispatcher {
    return this as unknown as ShardDispatcher;
  }
}
