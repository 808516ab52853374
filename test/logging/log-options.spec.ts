import * as assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';
import { runInJobLogContext } from '../../apps/coordinator/src/logging/job-log-context';
import {
  coordinatorLogOptions,
  maskUrlCredentials,
  requestLine,
} from '../../apps/coordinator/src/logging/log-options';

/** A logger with the coordinator's settings that writes into an array. */
function capturingLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino(coordinatorLogOptions('info'), sink), lines };
}

describe('coordinator log redaction', () => {
  it('masks URL credentials and drops auth headers and cookies', () => {
    const { log, lines } = capturingLogger();
    log.info(
      {
        redisUrl: 'redis://default:hunter2@redis.internal:6379/0',
        config: { redisUrl: 'rediss://:p%40ss@cache:6380' },
        req: {
          headers: { authorization: 'Bearer s3cret-token', cookie: 'sid=abc', host: 'coordinator:3000' },
        },
      },
      'connecting to redis://admin:pa55word@10.0.0.5:6379 for job 3f9c2a1b',
    );
    const [line] = lines;
    for (const secret of ['hunter2', 'p%40ss', 's3cret-token', 'sid=abc', 'pa55word']) {
      assert.ok(!line.includes(secret), `"${secret}" was logged: ${line}`);
    }
    const entry = JSON.parse(line);
    assert.equal(entry.redisUrl, 'redis://***@redis.internal:6379/0');
    assert.equal(entry.config.redisUrl, 'rediss://***@cache:6380');
    assert.equal(entry.req.headers.authorization, '[Redacted]');
    assert.equal(entry.req.headers.host, 'coordinator:3000');
    assert.equal(entry.msg, 'connecting to redis://***@10.0.0.5:6379 for job 3f9c2a1b');
  });

  it('leaves URLs without credentials alone', () => {
    assert.equal(
      maskUrlCredentials('redis://127.0.0.1:6379 and http://host/a@b'),
      'redis://127.0.0.1:6379 and http://host/a@b',
    );
  });
});

describe('request log lines', () => {
  it('name the method, URL, status and time, and the reason of a refusal', () => {
    const req = {
      method: 'POST',
      url: '/cancel',
      originalUrl: '/jobs/3f9c2a1b/cancel',
    } as unknown as IncomingMessage;
    const refused = { statusCode: 409, locals: { errorReason: 'job 3f9c2a1b is completed' } };
    assert.equal(
      requestLine(req, refused as unknown as ServerResponse, 3.4),
      'POST /jobs/3f9c2a1b/cancel 409 in 3 ms: job 3f9c2a1b is completed',
    );
    const ok = { statusCode: 200, locals: {} } as unknown as ServerResponse;
    assert.equal(requestLine(req, ok, 12.6), 'POST /jobs/3f9c2a1b/cancel 200 in 13 ms');
  });
});

describe("a training loop's log context", () => {
  const root = PinoLogger.root as unknown;
  after(() => Object.defineProperty(PinoLogger, 'root', { value: root, configurable: true, writable: true }));

  it('carries the job, not the request that started the loop', async () => {
    const { log } = capturingLogger();
    Object.defineProperty(PinoLogger, 'root', { value: log, configurable: true, writable: true });
    const request = new Store(log.child({ req: { id: 'r1', method: 'POST', url: '/jobs' } }));
    const bindings = await storage.run(request, () =>
      runInJobLogContext('job-1', async () => {
        await new Promise((resolve) => setImmediate(resolve)); // still so after an await
        return storage.getStore()!.logger.bindings();
      }),
    );
    assert.deepEqual(bindings, { name: 'coordinator', job: 'job-1' });
  });
});
