import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { EmbeddedRedis, EmbeddedRedisCluster } from '@resnet/local-cluster';
import { hashSlot, parseRedisAddress, RedisClusterAddress, ReusableBuffer } from '@resnet/protocol';
import { ClusterBlobStore } from '@resnet/redis-blobs';
import { RedisConnections } from '@resnet/redis-connections';

/** Keys of different hash tags, spread over the masters as another model's partitions would be. */
const PARTITION_KEYS = Array.from({ length: 12 }, (_, i) => `{p${i}}:weights:1`);

describe('ClusterBlobStore on a 3-master Redis Cluster', function () {
  let cluster: EmbeddedRedisCluster;
  let blobs: ClusterBlobStore;
  const direct = new Map<number, Redis>();
  /** A connection to one node alone, which answers MOVED for keys it does not serve. */
  const node = (server: EmbeddedRedis): Redis => {
    let client = direct.get(server.port);
    if (!client) {
      client = new Redis(server.url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined); // a master restarts on purpose; commands still fail loudly
      direct.set(server.port, client);
    }
    return client;
  };

  before(async () => {
    cluster = await EmbeddedRedisCluster.start({ masters: 3 });
    blobs = ClusterBlobStore.open(parseRedisAddress(cluster.url) as RedisClusterAddress);
  });
  after(async () => {
    blobs?.close();
    for (const client of direct.values()) client.disconnect();
    await cluster?.destroy();
  });

  it('sends each key to the master that serves its slot', async () => {
    const value = (key: string) => Buffer.from(`value of ${key}`);
    await Promise.all(PARTITION_KEYS.map((key) => blobs.set(key, value(key))));
    const owners = new Set<number>();
    for (const key of PARTITION_KEYS) {
      const owner = await cluster.nodeServing(key);
      owners.add(owner.port);
      assert.deepEqual(await node(owner).getBuffer(key), value(key), `${key} on its master`);
      assert.deepEqual(await blobs.get(key, new ReusableBuffer()), value(key));
    }
    assert.equal(owners.size, 3, 'the keys spread over every master');
    assert.equal(blobs.nodes.length, 3, 'one connection per master');
  });

  it('follows MOVED after a slot moved to another master, and ASK while it moves', async () => {
    const key = '{moving}:gradient';
    const slot = hashSlot(key);
    const value = Buffer.alloc(3 * 1024 * 1024, 7);
    await blobs.set(key, value, 600); // the store now maps the slot to its first master
    const from = await cluster.nodeServing(key);
    const to = cluster.nodes.find((n) => n !== from)!;
    const [fromId, toId] = await Promise.all([from, to].map((n) => node(n).cluster('MYID')));
    await node(to).cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await node(from).cluster('SETSLOT', slot, 'MIGRATING', toId);

    // Mid-migration, a key the old master does not hold is served by the importing one after ASK.
    const arriving = '{moving}:arriving';
    await blobs.set(arriving, Buffer.from('new'));
    assert.equal((await blobs.get(arriving, new ReusableBuffer()))?.toString(), 'new');

    await node(from).migrate('127.0.0.1', to.port, '', 0, 5000, 'KEYS', key);
    for (const n of cluster.nodes) await node(n).cluster('SETSLOT', slot, 'NODE', toId);
    // Only `key` was migrated: `arriving` is on the new master because ASK sent it there.
    assert.equal(await node(to).get(arriving), 'new');
    assert.deepEqual(await blobs.get(key, new ReusableBuffer()), value, 'read at its new master after MOVED');
    await blobs.set(key, Buffer.from('rewritten'));
    assert.equal((await node(to).get(key)) ?? '', 'rewritten');
  });

  it('waits out a master that restarts, and reads its data back', async () => {
    const key = PARTITION_KEYS[0];
    const owner = await cluster.nodeServing(key);
    const stopped = owner.stop();
    // Sent while the master is down: the connection reconnects and sends it again.
    const read = blobs.get(key, new ReusableBuffer());
    await stopped;
    await owner.launch();
    assert.equal((await read)?.toString(), `value of ${key}`);
    await cluster.untilReady();
  });
});

describe('RedisConnections.checkKind', function () {
  let cluster: EmbeddedRedisCluster;
  let single: EmbeddedRedis;
  before(async () => {
    [cluster, single] = await Promise.all([
      EmbeddedRedisCluster.start({ masters: 1 }),
      EmbeddedRedis.start(),
    ]);
  });
  after(async () => Promise.all([cluster?.destroy(), single?.destroy()]));

  it('refuses a URL of the wrong kind for the Redis it names, naming the fix', async () => {
    await assert.rejects(
      RedisConnections.fromUrl(cluster.nodes[0].url).checkKind(),
      /is a node of a Redis Cluster: write it as redis\+cluster:\/\//,
    );
    await assert.rejects(
      RedisConnections.fromUrl(`redis+cluster://127.0.0.1:${single.port}`).checkKind(),
      /not in cluster mode: write it as redis:\/\//,
    );
    await RedisConnections.fromUrl(cluster.url).checkKind();
    await RedisConnections.fromUrl(single.url).checkKind();
  });
});
