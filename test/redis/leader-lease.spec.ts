import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisKeys } from '@resnet/protocol';
import { EmbeddedRedis } from '@resnet/local-cluster';
import { FencedWriter } from '../../apps/coordinator/src/repositories/fenced-writer';
import { LeaderLeaseRepository } from '../../apps/coordinator/src/repositories/leader-lease.repository';

// The lease and fencing scripts against a real redis-server: the guarantees every coordinator test
// rests on. Each test starts from an empty Redis, so they hold in any order and alone.
describe('leader lease and fenced writes (Redis scripts)', () => {
  let server: EmbeddedRedis;
  let redis: Redis;
  let lease: LeaderLeaseRepository;
  let fenced: FencedWriter;
  const keys = new RedisKeys('lease-spec');
  const job = keys.job('j');

  before(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis(server.url);
    lease = new LeaderLeaseRepository(redis, keys);
    fenced = new FencedWriter(redis, keys);
  });
  after(async () => {
    redis?.disconnect();
    await server?.destroy();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it('gives the lease to one coordinator at a time, each new leader a higher token', async () => {
    const a = await lease.acquire('a', 200);
    assert.deepEqual(a, { token: 1 });
    assert.deepEqual(await lease.acquire('b', 200), { holder: 'a' });
    assert.equal(await lease.renew('a', 1, 200), true);
    // a stops renewing (dead or frozen): the lease expires and b takes it.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await lease.acquire('b', 200), { token: 2 });
    assert.equal(await lease.renew('a', 1, 200), false, 'a learns that it lost the lease');
    await lease.release('a'); // not a's to release
    assert.deepEqual(await lease.acquire('c', 200), { holder: 'b' });
    await lease.release('b');
    assert.deepEqual(await lease.acquire('c', 200), { token: 3 });
  });

  it("refuses a deposed leader's writes and checks the conditions in the same script", async () => {
    await redis.hset(job, { status: 'running', step: '4' });
    const { token: stale } = (await lease.acquire('a', 60_000)) as { token: number };
    await lease.release('a');
    const { token: current } = (await lease.acquire('b', 60_000)) as { token: number };
    assert.equal(await fenced.write(stale, [['HSET', job, 'step', '5']]), 'fenced');
    assert.equal(await redis.hget(job, 'step'), '4');
    const commit = (from: string) =>
      fenced.write(current, [['HSET', job, 'step', '5']], [{ key: job, field: 'step', oneOf: [from] }]);
    assert.equal(await commit('3'), 'unchanged');
    assert.equal(await redis.hget(job, 'step'), '4');
    assert.equal(await commit('4'), 'written');
    assert.equal(await redis.hget(job, 'step'), '5');
  });

  it('writes nothing when a required key is missing, checked before any command runs', async () => {
    const { token } = (await lease.acquire('a', 60_000)) as { token: number };
    await redis.set('lease-spec:staged', 'v');
    const move = [
      ['HSET', job, 'step', '1'],
      ['RENAME', 'lease-spec:staged', 'lease-spec:placed'],
    ] as const;
    assert.equal(await fenced.write(token, move, [], ['lease-spec:staged', 'lease-spec:gone']), 'unchanged');
    assert.deepEqual(await redis.hgetall(job), {});
    assert.equal(await redis.get('lease-spec:staged'), 'v');
    assert.equal(await fenced.write(token, move, [], ['lease-spec:staged']), 'written');
    assert.equal(await redis.get('lease-spec:placed'), 'v');
  });
});
