import { Job, JobJson, Worker } from 'bullmq';
import { ShardOutcome, ShardTask } from '@resnet/protocol';

/**
 * BullMQ's Worker for the shard queue, able to fail an entry whose data is not JSON. BullMQ parses
 * an entry's data while it takes the entry, and a parse error there leaves the entry active with
 * no one processing it: its lock expires, the stalled-job check puts it back on the queue, and the
 * next worker trips over it again. Here such an entry is handed to the processor with null data,
 * which the processor fails once, without retries (see shardTaskProblem).
 */
export class ShardQueueWorker extends Worker<ShardTask, ShardOutcome> {
  protected override createJob(data: JobJson, jobId: string): Job<ShardTask, ShardOutcome> {
    try {
      return super.createJob(data, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      return super.createJob({ ...data, data: 'null' }, jobId);
    }
  }
}
