import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';

/** While an outage lasts, a line at most this often. */
const OUTAGE_LINE_EVERY_MS = 30_000;

/**
 * ioredis (and BullMQ through it) retries with backoff by itself and emits an error on every
 * retry: this logs the first of an outage, then at most one line every 30 s, and the reconnect
 * where the connection reports one (an ioredis client emits 'ready'; BullMQ's queues do not).
 */
export function logOutages(connection: EventEmitter, what: string, logger: Logger): void {
  let loggedAt: number | null = null;
  connection.on('error', (err: Error) => {
    if (loggedAt !== null && Date.now() - loggedAt < OUTAGE_LINE_EVERY_MS) return;
    loggedAt = Date.now();
    logger.warn(`${what}: ${err.message}; reconnecting`);
  });
  connection.on('ready', () => {
    if (loggedAt !== null) logger.log(`${what}: reconnected`);
    loggedAt = null;
  });
}
