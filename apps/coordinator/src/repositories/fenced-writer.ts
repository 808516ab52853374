import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';
import { REDIS } from './redis.providers';

/** One Redis command of a fenced write, its arguments as strings (Lua would round numbers). */
export type FencedCommand = readonly [command: string, ...args: string[]];

/** A hash field that must hold one of the values for the write to happen. */
export interface FencedCondition {
  readonly key: string;
  readonly field: string;
  readonly oneOf: readonly string[];
}

/** `written`; `fenced`: another coordinator leads now; `unchanged`: a condition did not hold, or a required key was missing. */
export type FencedWriteResult = 'written' | 'fenced' | 'unchanged';

/**
 * Checks the fencing token (the current leader's), then each condition and that each required key
 * exists, then runs the commands, all in one script so nothing can come between. Redis does not
 * undo a script's writes when a later command fails (a RENAME of a missing key), so whatever could
 * fail is checked before anything is written. The keys the commands touch are named inside
 * ARGV, which a Redis Cluster allows because they all share the prefix's hash tag, and so the slot
 * of KEYS[1] (see redisPrefixFor).
 */
const FENCED_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for _, c in ipairs(cjson.decode(ARGV[2])) do
  local value = redis.call('HGET', c.key, c.field)
  local allowed = false
  for _, v in ipairs(c.oneOf) do if value == v then allowed = true end end
  if not allowed then return -1 end
end
for _, key in ipairs(cjson.decode(ARGV[4])) do
  if redis.call('EXISTS', key) == 0 then return -1 end
end
for _, c in ipairs(cjson.decode(ARGV[3])) do redis.call(unpack(c)) end
return 1
`;

/**
 * The only way a training loop writes job state: each write carries the fencing token the loop
 * started under, and Redis refuses it once another coordinator has taken the lead, so a leader that
 * was paused or cut off past its lease can never overwrite what its successor wrote.
 */
@Injectable()
export class FencedWriter {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async write(
    fence: number,
    commands: readonly FencedCommand[],
    conditions: readonly FencedCondition[] = [],
    requiredKeys: readonly string[] = [],
  ): Promise<FencedWriteResult> {
    const result = await this.redis.eval(
      FENCED_WRITE,
      1,
      this.keys.leaderToken(),
      String(fence),
      // An empty list decodes to an empty Lua table, which ipairs walks as empty: no special case.
      JSON.stringify(conditions),
      JSON.stringify(commands),
      JSON.stringify(requiredKeys),
    );
    return result === 1 ? 'written' : result === 0 ? 'fenced' : 'unchanged';
  }
}
