import * as assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { WORKER_DEFAULTS, workerCommand, WorkerOptions } from './worker-options';

/** The options the worker would start with, given `args` and `env`; commander's errors are thrown, not printed. */
function parse(args: string[], env: NodeJS.ProcessEnv = {}): WorkerOptions {
  let parsed: WorkerOptions | undefined;
  workerCommand(env, (options) => void (parsed = options))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .parse(args, { from: 'user' });
  assert.ok(parsed, 'the action ran');
  return parsed;
}

/** Asserts that `args` are refused with a message holding every one of `parts`. */
function assertRefused(args: string[], ...parts: string[]): void {
  assert.throws(
    () => parse(args),
    (err: Error) => {
      assert.ok(err instanceof CommanderError, `${err.name}: ${err.message}`);
      for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" names ${part}`);
      return true;
    },
  );
}

describe('worker options', () => {
  it('start from the defaults and the environment, numbers as numbers', () => {
    const options = parse([], { REDIS_URL: 'redis://10.0.0.2:6379', DATA_ROOT: '/data' });
    assert.equal(options.redis, 'redis://10.0.0.2:6379');
    assert.equal(options.dataRoot, '/data');
    assert.equal(options.lockMs, WORKER_DEFAULTS.lockMs);
    assert.equal(options.threads, WORKER_DEFAULTS.threads);
    assert.equal(options.simulateComputeMs, undefined);
  });

  it('parse --lock-ms, --threads and --simulate-compute-ms into numbers', () => {
    const options = parse(['--lock-ms', '30000', '--threads', '4', '--simulate-compute-ms', '0']);
    assert.deepEqual([options.lockMs, options.threads, options.simulateComputeMs], [30_000, 4, 0]);
  });

  it('refuse --lock-ms abc, naming the flag, the value and what it takes', () => {
    assertRefused(['--lock-ms', 'abc'], '--lock-ms', "'abc'", 'such as --lock-ms 60000');
  });

  it('refuse a lock under a second, fractional or negative threads, and a negative simulated time', () => {
    assertRefused(['--lock-ms', '500'], '--lock-ms', '1000 or more');
    assertRefused(['--threads', '2.5'], '--threads', 'such as --threads 4');
    assertRefused(['--threads', '0'], '--threads');
    assertRefused(['--threads', ''], '--threads');
    assertRefused(['--simulate-compute-ms', '-1'], '--simulate-compute-ms');
  });

  it('refuse a backend or device it does not know, listing the choices', () => {
    assertRefused(['--backend', 'cuda'], '--backend', 'wasm');
    assertRefused(['--device', 'tpu'], '--device', 'gpu');
  });
});
