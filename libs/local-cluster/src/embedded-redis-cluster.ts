import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { CLUSTER_SLOTS, hashSlot } from '@resnet/protocol';
import { askOnce } from '@resnet/redis-blobs';
import { EmbeddedRedis, freePort, portIsFree } from './embedded-redis';

/** A node talks to the others on its port + 10000 (the cluster bus), which must be free too. */
const CLUSTER_BUS_OFFSET = 10_000;

export interface EmbeddedRedisClusterOptions {
  /**
   * Masters, each serving an equal share of the slots; no replicas.
   * @defaultValue 3
   */
  readonly masters?: number;
  /**
   * How long a node may be unreachable before the others count it as failed (cluster-node-timeout).
   * @defaultValue 15000, Redis's own default: longer than a master's restart in the tests
   */
  readonly nodeTimeoutMs?: number;
  /**
   * How long start() and restart() wait for every node to report the cluster up.
   * @defaultValue 30000
   */
  readonly readyTimeoutMs?: number;
}

/**
 * A private Redis Cluster on free loopback ports, for tests and benchmarks (never a shared
 * instance): one redis-server per master, each with its data and nodes.conf in a folder of its
 * own, append-only, so that a master restarted by restart() rejoins with its slots and its data.
 */
export class EmbeddedRedisCluster {
  private constructor(
    /** Holds each node's folder, and the LocalCluster's datasets and checkpoints. */
    readonly dir: string,
    readonly nodes: readonly EmbeddedRedis[],
    private readonly readyTimeoutMs: number,
  ) {}

  /** REDIS_URL for the cluster: redis+cluster:// with every node. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`;
  }

  static async start(options: EmbeddedRedisClusterOptions = {}): Promise<EmbeddedRedisCluster> {
    const { masters = 3, nodeTimeoutMs = 15_000, readyTimeoutMs = 30_000 } = options;
    if (!Number.isInteger(masters) || masters < 1)
      throw new Error(`a Redis Cluster needs at least one master, not ${masters}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-redis-cluster-'));
    const nodes: EmbeddedRedis[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freeClusterPort();
        const nodeDir = path.join(dir, `node-${port}`);
        fs.mkdirSync(nodeDir);
        nodes.push(
          await EmbeddedRedis.start(port, {
            dir: nodeDir,
            serverArgs: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              'nodes.conf',
              '--cluster-node-timeout',
              String(nodeTimeoutMs),
            ],
          }),
        );
      }
      const cluster = new EmbeddedRedisCluster(dir, nodes, readyTimeoutMs);
      await cluster.join();
      await cluster.untilReady();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((node) => node.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Stops one master (SIGTERM flushes its append-only file; SIGKILL skips that, like a crash),
   * starts it again on the same port and folder, and waits until the cluster is up again.
   */
  async restart(node: EmbeddedRedis, signal: NodeJS.Signals = 'SIGTERM', downMs = 1000): Promise<void> {
    await node.stop(signal);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await node.launch();
    await this.untilReady();
  }

  /** The master that serves `key`'s slot. */
  async nodeServing(key: string): Promise<EmbeddedRedis> {
    const slot = hashSlot(key);
    const ranges = await withClient(this.nodes[0], (client) => client.cluster('SLOTS'));
    const range = ranges.find(([first, last]) => first <= slot && slot <= last);
    const node = this.nodes.find((n) => n.port === range?.[2][1]);
    if (!node) throw new Error(`no node of the cluster serves slot ${slot}`);
    return node;
  }

  /** Waits until every node reports `cluster_state:ok`. */
  async untilReady(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    const ready = async (node: EmbeddedRedis) =>
      /^cluster_state:ok/m.test((await askOnce(node.url, (client) => client.cluster('INFO'))) ?? '');
    while (!(await Promise.all(this.nodes.map(ready))).every(Boolean)) {
      if (Date.now() > deadline)
        throw new Error(`the Redis Cluster at ${this.url} was not up within ${this.readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * What `redis-cli --cluster create` does, for any number of masters (it wants 3 at least): each
   * node takes a distinct config epoch and the i-th of equal runs of slots (the ranges that
   * RedisKeys.partition aims each partition's hash tag at), then meets the first.
   */
  private async join(): Promise<void> {
    const masters = this.nodes.length;
    await Promise.all(
      this.nodes.map((node, i) =>
        withClient(node, async (client) => {
          await client.cluster('SET-CONFIG-EPOCH', i + 1);
          const first = Math.floor((i * CLUSTER_SLOTS) / masters);
          const end = Math.floor(((i + 1) * CLUSTER_SLOTS) / masters);
          await client.cluster('ADDSLOTS', ...Array.from({ length: end - first }, (_, s) => first + s));
        }),
      ),
    );
    await withClient(this.nodes[0], (client) =>
      Promise.all(this.nodes.slice(1).map((node) => client.cluster('MEET', '127.0.0.1', node.port))),
    );
  }
}

async function withClient<T>(node: EmbeddedRedis, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(node.url, { lazyConnect: true });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** A free port whose cluster bus port is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + CLUSTER_BUS_OFFSET <= 65535 && (await portIsFree(port + CLUSTER_BUS_OFFSET))) return port;
  }
}
