import * as assert from 'node:assert/strict';
import {
  hashSlot,
  hashTag,
  parseRedisAddress,
  RedisAddressError,
  redisNodeUrl,
  redisPrefixFor,
} from '@resnet/protocol';

describe('hashSlot', function () {
  // Each as `redis-cli CLUSTER KEYSLOT <key>` answered on Redis 7.0.
  const keyslots: [string, number][] = [
    ['', 0],
    ['foo', 12182],
    ['bar', 5061],
    ['héllo', 11061],
    ['{user1000}.following', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['{}', 15257],
    ['rc:job:abc:weights:3', 5625],
    ['{rc}:job:1', 13054],
    ['{p0}', 15882],
    ['{p1}', 11819],
  ];
  for (const [key, slot] of keyslots) {
    it(`puts "${key}" in slot ${slot}, as CLUSTER KEYSLOT does`, () => assert.equal(hashSlot(key), slot));
  }

  it('hashes only the tag of a tagged key, so keys of one prefix share a slot', () => {
    assert.equal(hashTag('{rc}:job:1:weights:3').toString(), 'rc');
    assert.equal(hashSlot('{rc}:job:1:weights:3'), hashSlot('rc'));
    assert.equal(hashSlot(Buffer.from('{rc}:versions')), hashSlot('{rc}:shards:wait'));
    assert.notEqual(hashSlot('{p0}:weights'), hashSlot('{p1}:weights'));
  });
});

describe('parseRedisAddress and redisPrefixFor', function () {
  it('leaves redis:// and rediss:// URLs to ioredis, as before', () => {
    assert.deepEqual(parseRedisAddress('redis://:pw@host:6380/2'), {
      kind: 'single',
      url: 'redis://:pw@host:6380/2',
    });
    assert.equal(parseRedisAddress('rediss://host').kind, 'single');
  });

  it('reads the nodes and login of redis+cluster:// and rediss+cluster://', () => {
    assert.deepEqual(parseRedisAddress('redis+cluster://10.0.0.1:7000,redis-b:7001,[::1]:7002'), {
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    const address = parseRedisAddress('rediss+cluster://app:p%40ss@h:7000/0');
    assert.deepEqual(address, {
      kind: 'cluster',
      nodes: [{ host: 'h', port: 7000 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    assert.equal(
      redisNodeUrl(address as Extract<typeof address, { kind: 'cluster' }>, { host: '::1', port: 7003 }),
      'rediss://app:p%40ss@[::1]:7003',
    );
  });

  it('refuses what cannot work, naming the fix', () => {
    assert.throws(() => parseRedisAddress('127.0.0.1:6379'), /redis:\/\/host:port.*redis\+cluster:\/\//);
    assert.throws(() => parseRedisAddress('redis+cluster://h:7000/3'), /only database 0: drop "\/3"/);
    assert.throws(
      () => parseRedisAddress('redis+cluster://h1:7000,h2'),
      /"h2": write each node as host:port/,
    );
    assert.throws(
      () => parseRedisAddress('redis+cluster://:secret@h'),
      (err: Error) => {
        assert.ok(err instanceof RedisAddressError);
        assert.doesNotMatch(err.message, /secret/, 'the password stays out of the message');
        return true;
      },
    );
  });

  it('keeps rc on one Redis, uses {rc} on a cluster, and refuses a cluster prefix without a hash tag', () => {
    const single = parseRedisAddress('redis://h:6379');
    const cluster = parseRedisAddress('redis+cluster://h:7000');
    assert.equal(redisPrefixFor(single), 'rc');
    assert.equal(redisPrefixFor(single, 'team-a'), 'team-a');
    assert.equal(redisPrefixFor(cluster), '{rc}');
    assert.equal(redisPrefixFor(cluster, 'team-{a}'), 'team-{a}');
    assert.throws(() => redisPrefixFor(cluster, 'team-a'), /no hash tag.*REDIS_PREFIX=\{team-a\}/);
    assert.throws(() => redisPrefixFor(cluster, 'a{}b'), /no hash tag/);
  });
});
