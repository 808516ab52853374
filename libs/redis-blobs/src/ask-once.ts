import { Redis } from 'ioredis';

/**
 * Connects to the Redis at `url` once, without retries, and asks it something: the answer, or null
 * when it does not answer (down, unreachable, or refusing the question).
 */
export async function askOnce<T>(url: string, ask: (client: Redis) => Promise<T>): Promise<T | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1500,
  });
  client.on('error', () => undefined); // a failed connect is the answer, reported by the return value
  try {
    await client.connect();
    return await ask(client);
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}
