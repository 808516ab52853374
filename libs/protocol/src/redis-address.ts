import { RedisAddressError } from './errors/redis-address.error';
import { hasHashTag } from './hash-slot';
import { DEFAULT_REDIS_PREFIX } from './redis-keys';

/** The URL schemes of a Redis Cluster: its nodes listed after them, comma-separated. */
const CLUSTER_SCHEMES = { 'redis+cluster:': false, 'rediss+cluster:': true } as const;

/** One node of a Redis Cluster as REDIS_URL names it; the cluster tells about the others. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** A single Redis: the URL as ioredis takes it (redis:// or rediss://, user, password, database). */
export interface SingleRedisAddress {
  readonly kind: 'single';
  readonly url: string;
}

/** A Redis Cluster: some of its nodes, and how to log in to every node. */
export interface RedisClusterAddress {
  readonly kind: 'cluster';
  readonly nodes: readonly RedisNode[];
  readonly username?: string;
  readonly password?: string;
  /** rediss+cluster://: every node is reached over TLS. */
  readonly tls: boolean;
}

export type RedisAddress = SingleRedisAddress | RedisClusterAddress;

/**
 * Reads REDIS_URL (or `--redis`): `redis://` or `rediss://` for one Redis, as before; or
 * `redis+cluster://[user:password@]host:port[,host:port…]` (`rediss+cluster://` over TLS) for a
 * Redis Cluster, naming one or more of its nodes.
 */
export function parseRedisAddress(url: string): RedisAddress {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase();
  if (scheme === 'redis:' || scheme === 'rediss:') return { kind: 'single', url };
  if (!scheme || !(scheme in CLUSTER_SCHEMES)) {
    throw new RedisAddressError(
      `REDIS_URL "${redact(url)}" is neither redis://host:port (one Redis) nor ` +
        'redis+cluster://host:port,host:port (a Redis Cluster): write it in one of these forms',
    );
  }
  const rest = url.slice(scheme.length).replace(/^\/\//, '');
  const at = rest.lastIndexOf('@');
  const [username, password] = at < 0 ? [] : rest.slice(0, at).split(':').map(decodeURIComponent);
  const [hosts, database] = rest.slice(at + 1).split('/');
  if (database && database !== '0') {
    throw new RedisAddressError(
      `REDIS_URL "${redact(url)}" asks for database ${database}, but a Redis Cluster has only database 0: ` +
        `drop "/${database}" from it`,
    );
  }
  const nodes = hosts.split(',').map((hostPort) => clusterNode(hostPort, url));
  return {
    kind: 'cluster',
    nodes,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: CLUSTER_SCHEMES[scheme as keyof typeof CLUSTER_SCHEMES],
  };
}

function clusterNode(hostPort: string, url: string): RedisNode {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d+)$/i.exec(hostPort);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new RedisAddressError(
      `REDIS_URL "${redact(url)}" names the cluster node "${hostPort}": write each node as host:port, ` +
        'comma-separated, e.g. redis+cluster://10.0.0.1:7000,10.0.0.2:7000',
    );
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * The key and queue prefix to use on `address`: `prefix` as given (REDIS_PREFIX, `--prefix`), else
 * DEFAULT_REDIS_PREFIX (`rc`) on one Redis and `{rc}` on a cluster. On a cluster the prefix must
 * hold a hash tag: scripts and transactions (the fenced commits, BullMQ's own) touch several keys,
 * which a cluster allows only within one slot, and the tag puts every key of the prefix in one.
 */
export function redisPrefixFor(address: RedisAddress, prefix?: string): string {
  if (address.kind === 'single') return prefix || DEFAULT_REDIS_PREFIX;
  if (!prefix) return `{${DEFAULT_REDIS_PREFIX}}`;
  if (!hasHashTag(prefix)) {
    throw new RedisAddressError(
      `REDIS_PREFIX "${prefix}" has no hash tag, which a Redis Cluster needs so that each script's ` +
        `keys share a slot: put it in braces, REDIS_PREFIX={${prefix}}`,
    );
  }
  return prefix;
}

/** The URL with its password hidden, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** The URL of one node of a cluster, with the cluster's login, for a connection to that node alone. */
export function redisNodeUrl(address: RedisClusterAddress, { host, port }: RedisNode): string {
  const url = new URL(
    `${address.tls ? 'rediss' : 'redis'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
  );
  url.username = address.username ?? '';
  url.password = address.password ?? '';
  return url.toString();
}

/** The URL of the Redis, or of the first node named of a cluster: for a one-off question to one node. */
export function firstNodeUrl(address: RedisAddress): string {
  return address.kind === 'single' ? address.url : redisNodeUrl(address, address.nodes[0]);
}
