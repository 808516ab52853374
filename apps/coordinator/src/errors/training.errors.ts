/**
 * A job's training loop stopped without the job having failed: the loop's caller catches this
 * base class, and each subclass says why.
 */
export class JobStoppedError extends Error {
  override readonly name: string = 'JobStoppedError';
}

export class JobCancelledError extends JobStoppedError {
  override readonly name = 'JobCancelledError';
}

export class JobPausedError extends JobStoppedError {
  override readonly name = 'JobPausedError';
}

/** A job of higher priority takes the slot: the job goes back to the queue at its last commit. */
export class JobPreemptedError extends JobStoppedError {
  override readonly name = 'JobPreemptedError';
}

export class CoordinatorStoppingError extends JobStoppedError {
  override readonly name = 'CoordinatorStoppingError';
}

/** Redis restarted without its data: the job is restored from its checkpoint rather than failed. */
export class RedisDataLostError extends JobStoppedError {
  override readonly name = 'RedisDataLostError';
}

/** A job on summation services cannot go on: its units have no live service, or their durable state is missing. */
export class ServicesUnavailableError extends Error {
  override readonly name = 'ServicesUnavailableError';
}

/** A unit's summation service was lost mid-step (its lease lapsed or moved): the step is redone. */
export class UnitOwnerLostError extends Error {
  override readonly name = 'UnitOwnerLostError';
}

/** A job the training loop was to run is not in Redis (it was deleted, or Redis lost it). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
}

/** A job is in Redis but a value its training needs is not: a weights version or its optimizer state. */
export class JobDataMissingError extends Error {
  override readonly name = 'JobDataMissingError';
}
