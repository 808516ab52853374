import { Job, UnrecoverableError } from 'bullmq';
import { Logger } from 'pino';
import { ShardOutcome, ShardTask, shardTaskId, shardTaskProblem, WorkerInfo } from '@resnet/protocol';
import { ShardHandler } from './shard-processor';
import { WorkerRepository } from './worker.repository';

/** What the handler reports of this worker, beside what it learns from the shards it runs. */
export type WorkerIdentity = Omit<WorkerInfo, 'imagesPerSecond' | 'currentShard' | 'lastSeen'>;

/**
 * Takes each entry of the shard queue: checks it is a shard task and that this worker is not
 * quarantined, computes it, and keeps the worker's heartbeat (its speed, its current shard).
 */
export class ShardJobHandler {
  private imagesPerSecond: number | null = null;
  private currentShard: string | null = null;

  constructor(
    private readonly identity: WorkerIdentity,
    private readonly repo: WorkerRepository,
    private readonly processor: ShardHandler,
    private readonly log: Logger,
    /** Called once the coordinator is found to have quarantined this worker: it should leave. */
    private readonly onQuarantined: (reason: string) => void,
  ) {}

  /** The heartbeat as of now. */
  info(): WorkerInfo {
    return {
      ...this.identity,
      imagesPerSecond: this.imagesPerSecond,
      currentShard: this.currentShard,
      lastSeen: Date.now(),
    };
  }

  async handle(job: Job<ShardTask, ShardOutcome>): Promise<ShardOutcome> {
    const problem = shardTaskProblem(job.data);
    // Retrying an entry that is not a shard task cannot help.
    if (problem) throw new UnrecoverableError(`shard queue entry ${job.id} ${problem}; it is not retried`);
    this.currentShard = shardTaskId(job.data);
    try {
      // One round trip for both: every round trip here delays the step.
      const [quarantined] = await Promise.all([
        this.repo.isQuarantined(this.identity.id),
        this.repo.heartbeat(this.info()),
      ]);
      if (quarantined) {
        this.onQuarantined(
          'quarantined by the coordinator after repeated rejected results; check this host, then release it (`npm run cli -- workers release <id>`) and restart it',
        );
        throw new Error(`worker ${this.identity.id} is quarantined`);
      }
      const outcome = await this.processor.process(job.data);
      // A refused shard (its summation service gone) computed nothing to time.
      if (job.data.kind === 'train' && outcome.count > 0)
        this.imagesPerSecond = (outcome.count * 1000) / outcome.computeMs;
      this.currentShard = null;
      // Reported with every result too, so short jobs show their speed without waiting for a beat;
      // not awaited, so that it travels with BullMQ's completion of the shard instead of before it.
      this.repo
        .heartbeat(this.info())
        .catch((err: Error) => this.log.warn({ err: err.message }, 'heartbeat'));
      this.log.info(
        { job: job.data.jobId, shard: shardTaskId(job.data), ms: Math.round(outcome.computeMs) },
        'shard done',
      );
      return outcome;
    } finally {
      this.currentShard = null;
    }
  }
}

/** A shard queue entry's name in logs: its shard's id, or BullMQ's id for an entry that is no shard task. */
export function entryName(job: Job<ShardTask, ShardOutcome>): string | undefined {
  return shardTaskProblem(job.data) ? job.id : shardTaskId(job.data);
}
