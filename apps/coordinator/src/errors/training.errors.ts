/**
 * A job's training loop stopped without the job having failed: the loop's caller catches this
 * base class, and each subclass says why (its name is its class's).
 */
export class JobStoppedError extends Error {
  override readonly name: string = this.constructor.name;
}

export class JobCancelledError extends JobStoppedError {}

export class JobPausedError extends JobStoppedError {}

/** A job of higher priority takes the slot: the job goes back to the queue at its last commit. */
export class JobPreemptedError extends JobStoppedError {}

export class CoordinatorStoppingError extends JobStoppedError {}

/** Redis restarted without its data: the job is restored from its checkpoint rather than failed. */
export class RedisDataLostError extends JobStoppedError {}
