import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { SHARD_QUEUE, StepMetrics, VersionAnnouncement } from '@resnet/protocol';
import { EmbeddedRedis, EmbeddedRedisCluster, LocalCluster } from '@resnet/local-cluster';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { InProcessCoordinator, startCoordinatorFromEnv } from '../apps/coordinator/src/bootstrap';
import { APP_ENTRIES } from './app-entries';

/** Redis's own accounting, read with INFO and a few length commands. */
export interface RedisFootprint {
  /** INFO memory used_memory, bytes. */
  readonly usedMemory: number;
  readonly keys: number;
  /** Entries in the shard queue's event stream. */
  readonly events: number;
  /** Completed shard jobs BullMQ still keeps. */
  readonly completedShards: number;
}

/** CPU time used so far, in ms, per part of the cluster. */
export interface CpuTimes {
  /** This process: the coordinator, and the benchmark's few requests to it. */
  readonly coordinator: number;
  readonly redis: number;
  /** All worker processes together; NaN where /proc cannot tell (not Linux). */
  readonly workers: number;
  /** All summation service processes together (0 without services); NaN as for workers. */
  readonly services: number;
  /** Each Redis process (one, or each master of a Redis Cluster), in node order. */
  readonly redisNodes: readonly number[];
}

/** Redis's calls so far per command name (INFO commandstats), e.g. evalsha → 1200. */
export type CommandCalls = Map<string, number>;

/** User + system CPU time of a process in ms, from /proc/<pid>/stat (Linux); NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * A local cluster for the scaling benchmark: a private loopback Redis, the real coordinator in this
 * process, and worker processes that simulate compute (real weights and gradient traffic). The
 * Redis runs without its append-only file: the blobs that dominate the traffic are transient, and
 * writing every gradient byte to disk as well is a deployment choice (see docs/scaling.md).
 */
export class ScaleCluster {
  private constructor(
    private readonly server: EmbeddedRedis | EmbeddedRedisCluster,
    private readonly cluster: LocalCluster<InProcessCoordinator>,
    private readonly connections: RedisConnections,
    /** The cluster's keys and channels, on one Redis or across a Redis Cluster. */
    private readonly client: RedisClient,
    /** One connection per Redis process, for its own accounting (INFO). */
    private readonly nodes: readonly Redis[],
  ) {}

  private get url(): string {
    return this.cluster.url;
  }

  /**
   * `redisMasters`: 0 for one Redis; more for a Redis Cluster of that many masters. `services`:
   * summation service processes, for jobs with aggregation 'services'.
   */
  static async start(
    workers: number,
    simulateComputeMs: number,
    redisMasters = 0,
    services = 0,
  ): Promise<ScaleCluster> {
    const server =
      redisMasters > 0
        ? await EmbeddedRedisCluster.start({ masters: redisMasters })
        : await EmbeddedRedis.start();
    const nodeUrls = server instanceof EmbeddedRedisCluster ? server.nodes.map((n) => n.url) : [server.url];
    const nodes = nodeUrls.map((url) => new Redis(url));
    await Promise.all(nodes.map((node) => node.config('SET', 'appendonly', 'no')));
    // A Redis Cluster needs the prefix in a hash tag (see README: On a Redis Cluster).
    const prefix = redisMasters > 0 ? '{scale}' : 'scale';
    const connections = RedisConnections.fromUrl(server.url, prefix);
    const cluster = await LocalCluster.start({
      entries: APP_ENTRIES,
      workers,
      redisUrl: server.url,
      prefix,
      dataRoot: server.dir,
      checkpointDir: server.dir,
      simulateComputeMs,
      coordinator: startCoordinatorFromEnv,
      coordinatorEnv: { LOG_LEVEL: 'warn' },
      services,
    });
    await cluster.untilWorkers(workers);
    const client = connections.client();
    while ((await client.hlen(connections.keys().services())) < services)
      await new Promise((r) => setTimeout(r, 100));
    return new ScaleCluster(server, cluster, connections, client, nodes);
  }

  /**
   * Runs a job to completion; `onVersion` hears of each weights version as it is announced (its
   * shards are queued). Returns its id and step metrics.
   */
  async run(
    job: Record<string, unknown>,
    onVersion?: (version: number) => void,
  ): Promise<{ jobId: string; steps: StepMetrics[] }> {
    const announcements = this.connections.client();
    if (onVersion) {
      announcements.on('message', (_channel: string, message: string) =>
        onVersion((JSON.parse(message) as VersionAnnouncement).version),
      );
      await announcements.subscribe(this.connections.keys().versionChannel());
    }
    try {
      const created = await this.request('POST', '/jobs', job);
      for (;;) {
        const state = await this.request('GET', `/jobs/${created.id}`);
        if (state.status === 'completed') break;
        if (state.status !== 'running' && state.status !== 'queued')
          throw new Error(`job ${state.status}: ${state.error}`);
        await new Promise((r) => setTimeout(r, 500)); // seldom: these requests cost the coordinator's CPU too
      }
      const { steps } = await this.request('GET', `/jobs/${created.id}/metrics`);
      return { jobId: created.id, steps: steps as StepMetrics[] };
    } finally {
      announcements.disconnect();
    }
  }

  /** SHA-256 of the job's trained weights as the REST API exports them (the same bytes however they were stored). */
  async weightsDigest(jobId: string): Promise<string> {
    const res = await fetch(`${this.url}/jobs/${jobId}/model/weights.bin`);
    if (!res.ok) throw new Error(`GET /jobs/${jobId}/model/weights.bin answered ${res.status}`);
    return createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');
  }

  async cpuTimes(): Promise<CpuTimes> {
    const usage = process.cpuUsage();
    const infos = await Promise.all(this.nodes.map((node) => node.info('cpu')));
    const seconds = (info: string, name: string): number =>
      Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
    const redisNodes = infos.map(
      (info) => 1000 * (seconds(info, 'used_cpu_user') + seconds(info, 'used_cpu_sys')),
    );
    return {
      coordinator: (usage.user + usage.system) / 1000,
      redis: redisNodes.reduce((a, b) => a + b, 0),
      workers: this.cluster.workers.pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
      services: this.cluster.services.pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
      redisNodes,
    };
  }

  /** Calls per command name, over every Redis process. */
  async commandCalls(): Promise<CommandCalls> {
    const calls: CommandCalls = new Map();
    for (const info of await Promise.all(this.nodes.map((node) => node.info('commandstats')))) {
      for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
        calls.set(name, (calls.get(name) ?? 0) + Number(count));
    }
    return calls;
  }

  async footprint(): Promise<RedisFootprint> {
    const queue = `${this.connections.prefix}:${SHARD_QUEUE}`;
    const [infos, sizes, events, completedShards] = await Promise.all([
      Promise.all(this.nodes.map((node) => node.info('memory'))),
      Promise.all(this.nodes.map((node) => node.dbsize())),
      this.client.xlen(`${queue}:events`),
      this.client.zcard(`${queue}:completed`),
    ]);
    return {
      usedMemory: infos.reduce((sum, info) => sum + Number(/used_memory:(\d+)/.exec(info)![1]), 0),
      keys: sizes.reduce((a, b) => a + b, 0),
      events,
      completedShards,
    };
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    this.client.disconnect();
    for (const node of this.nodes) node.disconnect();
    await this.server.destroy();
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await res.json();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
    return answer;
  }
}
