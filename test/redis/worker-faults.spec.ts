import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisKeys } from '@resnet/protocol';
import { EmbeddedRedis } from '@resnet/local-cluster';
import { WorkerRegistryRepository } from '../../apps/coordinator/src/repositories/worker-registry.repository';

// Rejected results against a real redis-server: they age out of the window, and a release forgets them.
describe('worker faults (Redis)', () => {
  let server: EmbeddedRedis;
  let redis: Redis;
  let registry: WorkerRegistryRepository;

  before(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis(server.url);
    registry = new WorkerRegistryRepository(redis, new RedisKeys('faults-spec'));
  });
  after(async () => {
    redis?.disconnect();
    await server?.destroy();
  });

  it('counts only the rejected results within the window', async () => {
    const hour = 3600_000;
    const now = Date.now();
    assert.equal(await registry.countFault('w', hour, now - 2 * hour), 1);
    assert.equal(await registry.countFault('w', hour, now - 2 * hour + 1), 2);
    // Two hours on, those two have aged out.
    assert.equal(await registry.countFault('w', hour, now), 1);
    assert.equal(await registry.countFault('w', hour, now + 1), 2);
  });

  it('lifts a quarantine and forgets the faults on release', async () => {
    await registry.quarantine('w');
    assert.equal(await registry.release('w'), true);
    assert.equal((await registry.quarantined()).has('w'), false);
    assert.equal(await registry.countFault('w', 3600_000), 1, 'counting starts over');
    assert.equal(await registry.release('w'), false, 'it was not quarantined');
  });
});
