import { setTimeout as sleep } from 'node:timers/promises';
import { ShardOutcome, ShardTask } from '@resnet/protocol';
import { UnitTransportError } from '@resnet/unit-transport';
import { ShardHandler } from './shard-processor';

/** How long a shard whose service could not be reached waits before it says so: its redo would only find it gone again. */
const UNREACHABLE_PAUSE_MS = 200;

/**
 * Turns a summation service that cannot be reached, or that serves a unit the commit record does
 * not list, into a refused outcome rather than a failed shard: the service is gone or stale, not
 * the shard, and the coordinator redoes the step once the unit has a new owner.
 */
export class ServiceFailures implements ShardHandler {
  constructor(
    private readonly inner: ShardHandler,
    private readonly workerId: string,
  ) {}

  async process(task: ShardTask): Promise<ShardOutcome> {
    try {
      return await this.inner.process(task);
    } catch (err) {
      if (!(err instanceof UnitTransportError)) throw err;
      await sleep(UNREACHABLE_PAUSE_MS);
      return {
        workerId: this.workerId,
        lossSum: 0,
        correct: 0,
        count: 0,
        computeMs: 0,
        refused: { reason: err.message, workersFault: false },
      };
    }
  }
}
