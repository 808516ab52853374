import {
  CLUSTER_SLOTS,
  hashSlot,
  RedisClusterAddress,
  RedisNode,
  redisNodeUrl,
  ReusableBuffer,
} from '@resnet/protocol';
import { askOnce } from './ask-once';
import { BlobConnection } from './blob-connection';
import { BlobStore } from './blob-store';
import { BlobConnectionClosedError } from './errors/blob-connection-closed.error';
import { RedisReplyError } from './errors/redis-reply.error';

/** Redirections one command follows before it gives up: more means the cluster keeps moving the slot. */
const MAX_REDIRECTIONS = 16;
const FIRST_RETRY_DELAY_MS = 50;
const MAX_RETRY_DELAY_MS = 1000;
/** Replies of a cluster that is reconfiguring or restarting: the command is sent again after a pause. */
const PASSING_ERRORS = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN) /;

/**
 * Big values on a Redis Cluster, moved without copies: one BlobConnection per master, and each key
 * sent to the master that serves its slot (see hashSlot), as `CLUSTER SLOTS` maps them. A `MOVED`
 * reply corrects the map (and refreshes all of it), an `ASK` reply (a slot being migrated) sends the
 * command once to the importing node; a cluster that is down or restarting a master is waited out,
 * as a lost connection is. Each connection reconnects to its master on its own, and a lost one
 * rereads the map, so that a master replaced by another (a failover) has its commands sent there.
 */
export class ClusterBlobStore implements BlobStore {
  /** Per slot, the `host:port` of the master serving it; empty until the first map arrives. */
  private owners: (string | undefined)[] = [];
  private readonly connections = new Map<string, BlobConnection>();
  private refreshing: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly address: RedisClusterAddress) {}

  /** Connects lazily: the slot map is read with the first command. */
  static open(address: RedisClusterAddress): ClusterBlobStore {
    return new ClusterBlobStore(address);
  }

  async get(key: string, into: ReusableBuffer): Promise<Buffer | null> {
    return this.route(key, (connection) => connection.get(key, into));
  }

  async set(key: string, value: Buffer, ttlSeconds?: number): Promise<void> {
    await this.route(key, (connection) => connection.set(key, value, ttlSeconds));
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  /** The masters the store holds a connection to, as `host:port`: one per master it has sent to. */
  get nodes(): string[] {
    return [...this.connections.keys()];
  }

  private async route<T>(key: string, command: (connection: BlobConnection) => Promise<T>): Promise<T> {
    const slot = hashSlot(key);
    let askAt: string | null = null;
    let redirections = 0;
    let pauses = 0;
    for (;;) {
      const node = askAt ?? (await this.ownerOf(slot));
      const connection = this.connectionTo(node);
      try {
        // ASKING holds for the next command only: both are queued now, one right after the other.
        const [, reply] = await Promise.all([askAt ? connection.asking() : null, command(connection)]);
        return reply;
      } catch (err) {
        if (this.closed) throw err;
        const redirect = redirectionOf(err as Error, node);
        if (redirect) {
          if (++redirections > MAX_REDIRECTIONS) {
            throw new RedisReplyError(
              `key ${key} was redirected ${MAX_REDIRECTIONS} times, the last: ${(err as Error).message}`,
            );
          }
          askAt = redirect.ask ? redirect.node : null;
          if (!redirect.ask) {
            // Right for this slot at once; the others may have moved with it.
            this.owners[slot] = redirect.node;
            void this.refresh();
          }
          continue;
        }
        if (!passing(err as Error)) throw err;
        askAt = null;
        await pause(pauses++);
        await this.refresh();
      }
    }
  }

  /** The master serving `slot`, waiting for a slot map while no node answers. */
  private async ownerOf(slot: number): Promise<string> {
    for (let pauses = 0; ; pauses++) {
      const owner = this.owners[slot];
      if (owner) return owner;
      if (this.closed) throw new BlobConnectionClosedError('the cluster blob store was closed');
      await this.refresh();
      if (!this.owners[slot]) await pause(pauses);
    }
  }

  private connectionTo(node: string): BlobConnection {
    if (this.closed) throw new BlobConnectionClosedError('the cluster blob store was closed');
    let connection = this.connections.get(node);
    if (!connection) {
      connection = BlobConnection.open(redisNodeUrl(this.address, parseNode(node)), {
        // A master that fails over moves its slots elsewhere: the new map closes this connection.
        onLost: () => void this.refresh(),
      });
      this.connections.set(node, connection);
    }
    return connection;
  }

  /** Only one refresh at a time; callers that come while one runs share it. It never rejects. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.readSlotMap().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /**
   * Asks the known masters, then the nodes REDIS_URL names, for `CLUSTER SLOTS`; keeps the old map
   * when none answers. Connections to nodes that no longer serve a slot are closed: their
   * unanswered commands fail with BlobConnectionClosedError and are sent again to the new owner.
   */
  private async readSlotMap(): Promise<void> {
    const candidates = new Set([...this.connections.keys(), ...this.address.nodes.map(nodeKey)]);
    for (const candidate of candidates) {
      const slots = await askOnce(redisNodeUrl(this.address, parseNode(candidate)), (client) =>
        client.cluster('SLOTS'),
      );
      if (!slots) continue;
      const owners: string[] = new Array(CLUSTER_SLOTS);
      for (const [first, last, [host, port]] of slots) {
        // A node that does not know its own address reports it empty: it is the one asked.
        owners.fill(nodeKey({ host: host || parseNode(candidate).host, port }), first, last + 1);
      }
      this.owners = owners;
      for (const [node, connection] of this.connections) {
        if (owners.includes(node)) continue;
        this.connections.delete(node);
        connection.close();
      }
      return;
    }
  }
}

function nodeKey({ host, port }: RedisNode): string {
  return `${host}:${port}`;
}

function parseNode(key: string): RedisNode {
  const at = key.lastIndexOf(':');
  return { host: key.slice(0, at), port: Number(key.slice(at + 1)) };
}

/** A `MOVED <slot> <host:port>` or `ASK <slot> <host:port>` reply; an empty host means `from`'s. */
function redirectionOf(err: Error, from: string): { ask: boolean; node: string } | null {
  if (!(err instanceof RedisReplyError)) return null;
  const match = /^(MOVED|ASK) \d+ (\S*):(\d+)$/.exec(err.message);
  if (!match) return null;
  return { ask: match[1] === 'ASK', node: `${match[2] || parseNode(from).host}:${match[3]}` };
}

function passing(err: Error): boolean {
  return (
    err instanceof BlobConnectionClosedError ||
    (err instanceof RedisReplyError && PASSING_ERRORS.test(err.message))
  );
}

function pause(pauses: number): Promise<void> {
  const ms = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** pauses);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
