import { JobStoppedError } from './training.errors';

/** Redis refused a training loop's write: another coordinator has taken the lead since the loop started. */
export class FencedOffError extends Error {
  override readonly name = 'FencedOffError';
}

/** This coordinator stopped leading: its training loops stop, and the new leader resumes the jobs. */
export class LeadershipLostError extends JobStoppedError {}
