/** A REDIS_URL or key prefix that cannot work: the message names the cause and the fix. */
export class RedisAddressError extends Error {
  override readonly name = 'RedisAddressError';
}
