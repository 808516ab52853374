export const JOB_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobState {
  readonly id: string;
  readonly status: JobStatus;
  /** Optimizer steps applied so far; the current weights version. */
  readonly step: number;
  /**
   * Queued jobs start highest priority first, FIFO within a priority, and a job preempts running
   * jobs of lower priority at their next step boundary.
   * @defaultValue 0
   */
  readonly priority: number;
  /**
   * Jobs running at once share the workers in proportion to their weights.
   * @defaultValue 1
   */
  readonly weight: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly error?: string;
}

/** How a job shares the queue and the workers with others. */
export type JobShare = Pick<JobState, 'priority' | 'weight'>;

/** The share of a job that asks for none; a job restored from a checkpoint (which keeps none) takes it too. */
export const DEFAULT_JOB_SHARE: JobShare = { priority: 0, weight: 1 };
