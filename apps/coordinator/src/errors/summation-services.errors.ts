/** A job on summation services cannot go on: its units have no live service, or their durable state is missing. */
export class ServicesUnavailableError extends Error {
  override readonly name = 'ServicesUnavailableError';
}

/** A unit's summation service was lost mid-step (its lease lapsed or moved): the step is redone. */
export class UnitOwnerLostError extends Error {
  override readonly name = 'UnitOwnerLostError';
}
