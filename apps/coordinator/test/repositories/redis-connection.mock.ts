import { EventEmitter } from 'node:events';

/** An ioredis client as far as the services look at it: its status and its events. */
export class FakeRedisConnection extends EventEmitter {
  status = 'ready';
}
