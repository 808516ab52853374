import { RedisClient } from '@resnet/redis-connections';
import { RedisUnavailableError } from '../errors/redis-unavailable.error';

/**
 * Runs Redis reads for read-only views (health, metrics, the dashboard) without hanging on an
 * outage: the shared clients queue commands until Redis is back (BullMQ needs
 * maxRetriesPerRequest: null), so a view checks the connection first and gives up after a timeout.
 */
export async function readWhileRedisAnswers<T>(
  redis: RedisClient,
  read: () => Promise<T>,
  timeoutMs = 2000,
): Promise<T> {
  if (redis.status !== 'ready') throw new RedisUnavailableError(`Redis connection is ${redis.status}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
