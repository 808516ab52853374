/** A job the training loop was to run is not in Redis (it was deleted, or Redis lost it). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
}

/** A job is in Redis but a value its training needs is not: a weights version or its optimizer state. */
export class JobDataMissingError extends Error {
  override readonly name = 'JobDataMissingError';
}
