/** An error reply from Redis. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}
