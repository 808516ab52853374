import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RedisKeys, SHARD_QUEUE, StepMetrics, VersionAnnouncement } from '@resnet/protocol';
import { EmbeddedRedis, LocalCluster } from '@resnet/local-cluster';
import { InProcessCoordinator, startCoordinatorFromEnv } from '../apps/coordinator/src/bootstrap';

const PREFIX = 'scale';

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
    private readonly server: EmbeddedRedis,
    private readonly cluster: LocalCluster<InProcessCoordinator>,
    readonly redis: Redis,
  ) {}

  private get url(): string {
    return this.cluster.url;
  }

  static async start(workers: number, simulateComputeMs: number): Promise<ScaleCluster> {
    const server = await EmbeddedRedis.start();
    const redis = new Redis(server.url);
    await redis.config('SET', 'appendonly', 'no');
    const cluster = await LocalCluster.start({
      workers,
      redisUrl: server.url,
      prefix: PREFIX,
      dataRoot: server.dir,
      checkpointDir: server.dir,
      simulateComputeMs,
      coordinator: startCoordinatorFromEnv,
      coordinatorEnv: { LOG_LEVEL: 'warn' },
    });
    await cluster.untilWorkers(workers);
    return new ScaleCluster(server, cluster, redis);
  }

  /** Runs a job to completion; `onVersion` hears of each weights version as it is announced (its shards are queued). */
  async run(job: Record<string, unknown>, onVersion?: (version: number) => void): Promise<StepMetrics[]> {
    const announcements = this.redis.duplicate();
    if (onVersion) {
      announcements.on('message', (_channel, message) =>
        onVersion((JSON.parse(message) as VersionAnnouncement).version),
      );
      await announcements.subscribe(new RedisKeys(PREFIX).versionChannel());
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
      return (await this.request('GET', `/jobs/${created.id}/metrics`)).steps as StepMetrics[];
    } finally {
      announcements.disconnect();
    }
  }

  async cpuTimes(): Promise<CpuTimes> {
    const usage = process.cpuUsage();
    const info = await this.redis.info('cpu');
    const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
    return {
      coordinator: (usage.user + usage.system) / 1000,
      redis: 1000 * (seconds('used_cpu_user') + seconds('used_cpu_sys')),
      workers: this.cluster.workers.pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    };
  }

  async commandCalls(): Promise<CommandCalls> {
    const info = await this.redis.info('commandstats');
    return new Map(
      [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name, Number(calls)]),
    );
  }

  async footprint(): Promise<RedisFootprint> {
    const queue = `${PREFIX}:${SHARD_QUEUE}`;
    const [info, keys, events, completedShards] = await Promise.all([
      this.redis.info('memory'),
      this.redis.dbsize(),
      this.redis.xlen(`${queue}:events`),
      this.redis.zcard(`${queue}:completed`),
    ]);
    return { usedMemory: Number(/used_memory:(\d+)/.exec(info)![1]), keys, events, completedShards };
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    this.redis.disconnect();
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
