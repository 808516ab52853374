import { ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import {
  firstNodeUrl,
  parseRedisAddress,
  redact,
  RedisAddress,
  RedisAddressError,
  RedisKeys,
  redisPrefixFor,
} from '@resnet/protocol';
import { askOnce, BlobConnection, BlobStore, ClusterBlobStore } from '@resnet/redis-blobs';

/** An ioredis client of either kind: the commands used here work alike on both. */
export type RedisClient = Redis | Cluster;

/**
 * How long a cluster that is down, failing over or restarting a master is waited out before a
 * command fails: ioredis retries such a command every RETRY_DELAY_MS, at most MAX_REDIRECTIONS
 * times (its default, 16 × 100 ms, is shorter than the 2 s a restarted master takes to serve again).
 */
const RETRY_DELAY_MS = 300;
const MAX_REDIRECTIONS = 200;
const MAX_RECONNECT_DELAY_MS = 2000;
const reconnectDelay = (times: number): number => Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** times);

/**
 * Opens every connection to Redis from REDIS_URL and REDIS_PREFIX: ioredis clients, BullMQ's
 * connection and the blob store, each of the kind the URL asks for — one Redis (`redis://`,
 * `rediss://`) or a Redis Cluster (`redis+cluster://host:port,…`, see parseRedisAddress).
 */
export class RedisConnections {
  private constructor(
    readonly url: string,
    readonly address: RedisAddress,
    /** The key and queue prefix: hash-tagged on a cluster (see redisPrefixFor). */
    readonly prefix: string,
  ) {}

  /** Throws RedisAddressError, naming the fix, for a URL or prefix that cannot work. */
  static fromUrl(url: string, prefix?: string): RedisConnections {
    const address = parseRedisAddress(url);
    return new RedisConnections(url, address, redisPrefixFor(address, prefix));
  }

  get isCluster(): boolean {
    return this.address.kind === 'cluster';
  }

  /** The URL with its password hidden, for logs. */
  get redactedUrl(): string {
    return redact(this.url);
  }

  keys(): RedisKeys {
    return new RedisKeys(this.prefix);
  }

  /**
   * A new client, which its caller disconnects. Commands wait out an outage instead of failing
   * (maxRetriesPerRequest: null, which BullMQ needs too); on a cluster, a master that restarts is
   * reconnected to, and its commands held meanwhile.
   */
  client(): RedisClient {
    const { address } = this;
    if (address.kind === 'single') return new Redis(address.url, { maxRetriesPerRequest: null });
    return new Cluster(
      address.nodes.map(({ host, port }) => ({ host, port })),
      {
        redisOptions: {
          username: address.username,
          password: address.password,
          tls: address.tls ? {} : undefined,
          maxRetriesPerRequest: null,
        },
        clusterNodeRetryStrategy: reconnectDelay,
        clusterRetryStrategy: reconnectDelay,
        retryDelayOnClusterDown: RETRY_DELAY_MS,
        retryDelayOnFailover: RETRY_DELAY_MS,
        retryDelayOnTryAgain: RETRY_DELAY_MS,
        maxRedirections: MAX_REDIRECTIONS,
      },
    );
  }

  /** A new store for big values, which its caller closes. */
  blobs(): BlobStore {
    const { address } = this;
    return address.kind === 'single' ? BlobConnection.open(address.url) : ClusterBlobStore.open(address);
  }

  /**
   * BullMQ's connection for queues, queue events and workers: on a cluster, `shared` itself (BullMQ
   * takes a cluster only as a client, and duplicates it where it blocks); on one Redis, the URL, so
   * BullMQ keeps connections of its own as it always has.
   */
  bullConnection(shared: RedisClient): ConnectionOptions {
    return this.address.kind === 'cluster' ? shared : { url: this.url, maxRetriesPerRequest: null };
  }

  /**
   * Refuses a URL of the wrong kind for the Redis it names, with the fix: a cluster node behind
   * redis:// would answer most commands with MOVED, and a plain Redis behind redis+cluster:// would
   * never serve. Resolves without a verdict when nothing answers yet: the clients wait for it.
   */
  async checkKind(): Promise<void> {
    const { address } = this;
    const info = await askOnce(firstNodeUrl(address), (client) => client.info('cluster'));
    if (info === null) return;
    const clusterEnabled = /^cluster_enabled:1/m.test(info);
    if (clusterEnabled && address.kind === 'single') {
      throw new RedisAddressError(
        `REDIS_URL ${this.redactedUrl} is a node of a Redis Cluster: write it as ` +
          'redis+cluster://host:port (one or more nodes, comma-separated)',
      );
    }
    if (!clusterEnabled && address.kind === 'cluster') {
      throw new RedisAddressError(
        `REDIS_URL ${this.redactedUrl} names a Redis that is not in cluster mode: write it as redis://host:port`,
      );
    }
  }
}
