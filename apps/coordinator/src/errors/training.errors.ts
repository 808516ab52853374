/** Reasons a job's training loop stops without the job having failed. */

export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}

export class JobPausedError extends Error {
  override readonly name = 'JobPausedError';
}

/** A job of higher priority takes the slot: the job goes back to the queue at its last commit. */
export class JobPreemptedError extends Error {
  override readonly name = 'JobPreemptedError';
}

export class CoordinatorStoppingError extends Error {
  override readonly name = 'CoordinatorStoppingError';
}

/** Redis restarted without its data: the job is restored from its checkpoint rather than failed. */
export class RedisDataLostError extends Error {
  override readonly name = 'RedisDataLostError';
}

/** A job on summation services cannot go on: its units have no live service, or their durable state is missing. */
export class ServicesUnavailableError extends Error {
  override readonly name = 'ServicesUnavailableError';
}
