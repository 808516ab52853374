import * as assert from 'node:assert/strict';
import { InvalidOptionError } from '../../errors/options.errors';
import { SHARD_DISPATCHER_DEFAULTS, shardDispatcherOptions } from './shard-dispatcher.options';

describe('shardDispatcherOptions', () => {
  it('merges what is set over the defaults, and leaves undefined at its default', () => {
    assert.deepEqual(shardDispatcherOptions(), SHARD_DISPATCHER_DEFAULTS);
    assert.deepEqual(shardDispatcherOptions({ attempts: 5, lookUpAwaitedMs: undefined }), {
      ...SHARD_DISPATCHER_DEFAULTS,
      attempts: 5,
    });
  });

  for (const [option, value] of [
    ['attempts', 0],
    ['maxRejectedResults', -1],
    ['keepCompletedRuns', 1.5],
    ['queueEventsKept', Number.NaN],
    ['lookUpAwaitedMs', '100'],
  ] as const) {
    it(`refuses ${option} = ${String(value)}, naming the option`, () => {
      assert.throws(
        () => shardDispatcherOptions({ [option]: value }),
        (err: Error) =>
          err instanceof InvalidOptionError &&
          err.message.startsWith(`ShardDispatcherOptions.${option} must be a positive integer`),
      );
    });
  }

  it('refuses an option it does not have, rather than ignore a misspelt one', () => {
    assert.throws(
      () => shardDispatcherOptions({ atempts: 2 } as never),
      (err: Error) =>
        err instanceof InvalidOptionError && /atempts must be one of attempts/.test(err.message),
    );
  });
});
