import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { coordinatorLogOptions, maskUrlCredentials } from '../../apps/coordinator/src/logging/log-options';

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
