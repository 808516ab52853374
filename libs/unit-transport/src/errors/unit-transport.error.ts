/** A unit request that got no answer: the service is unreachable, closed the connection, or sent a broken frame. */
export class UnitTransportError extends Error {
  override readonly name = 'UnitTransportError';
}
