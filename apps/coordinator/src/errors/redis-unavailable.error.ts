/** A read-only view gave up on Redis: disconnected, or no answer in time. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}
