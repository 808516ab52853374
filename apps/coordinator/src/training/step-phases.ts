import { ShardOutcome, StepMetrics } from '@resnet/protocol';

export type StepPhaseMetrics = Pick<
  StepMetrics,
  'enqueueMs' | 'weightFetchMs' | 'uploadMs' | 'lastArrivalMs' | 'aggregateMs' | 'optimizerMs' | 'publishMs'
>;

/**
 * Times the phases of a job's steps, one step after another (see StepMetrics for each phase):
 * what the coordinator measures itself, and the slowest of what the workers report. The time to
 * publish a step's weights is known only after its commit, so it goes into the next step's record.
 */
export class StepPhases {
  private started = 0;
  private enqueueMs = 0;
  private lastArrival = 0;
  private aggregateMs = 0;
  private weightFetchMs = 0;
  private uploadMs = 0;
  private waited = 0;
  private publishStarted = 0;
  private publishMs: number | undefined;

  beginStep(): void {
    this.started = performance.now();
    this.enqueueMs = this.lastArrival = this.aggregateMs = this.weightFetchMs = this.uploadMs = 0;
  }

  enqueued(ms: number): void {
    this.enqueueMs = ms;
  }

  /** A shard's result arrived. */
  arrived(outcome: ShardOutcome): void {
    this.lastArrival = performance.now();
    this.weightFetchMs = Math.max(this.weightFetchMs, outcome.weightFetchMs ?? 0);
    this.uploadMs = Math.max(this.uploadMs, outcome.uploadMs ?? 0);
  }

  /** A shard's gradient message, read at `readAt`, has been checked and folded in. */
  aggregated(readAt: number): void {
    this.aggregateMs += performance.now() - readAt;
  }

  /** Every shard is folded in. */
  allFolded(): void {
    this.waited = performance.now();
  }

  /** The update is applied and checked; encoding and committing the new version begins. */
  publishing(): void {
    this.publishStarted = performance.now();
  }

  published(): void {
    this.publishMs = performance.now() - this.publishStarted;
  }

  metrics(): StepPhaseMetrics {
    return {
      enqueueMs: this.enqueueMs,
      weightFetchMs: this.weightFetchMs,
      uploadMs: this.uploadMs,
      lastArrivalMs: this.lastArrival - this.started,
      aggregateMs: this.aggregateMs,
      optimizerMs: this.publishStarted - this.waited,
      ...(this.publishMs === undefined ? {} : { publishMs: this.publishMs }),
    };
  }
}
