import { JobState } from '@resnet/protocol';
import { TrainingJobSpec } from './training-job';

/** A job as the REST API returns it (GET /jobs, /jobs/:id): its state, progress and complete spec. */
export interface JobView extends JobState {
  readonly name: string;
  readonly totalSteps: number;
  /** Epochs done, fractional. */
  readonly epoch: number;
  /** From 0 to 1. */
  readonly progress: number;
  readonly spec: TrainingJobSpec;
  /** While queued: 1 for the job that starts next, and so on. */
  readonly queuePosition?: number;
  /** Set while the job is queued or running and no worker can take its shards: why, and what to do. */
  readonly workersUnavailable?: string;
}
