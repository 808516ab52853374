import * as path from 'node:path';
import { parseRedisAddress, redisPrefixFor } from '@resnet/protocol';
import { CoordinatorProcess } from './coordinator-process';
import { EmbeddedRedis, freePort } from './embedded-redis';
import { EmbeddedRedisCluster } from './embedded-redis-cluster';
import { ServicePool } from './service-pool';
import { WorkerPool } from './worker-pool';

/** A running coordinator as a LocalCluster needs it: where it answers, and how to stop it. */
export interface CoordinatorHandle {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a coordinator in this process from environment variables (REDIS_URL, PORT, …), for
 * callers that reach into it; the apps never import each other, so the caller passes this in.
 */
export type CoordinatorLauncher<C extends CoordinatorHandle> = (env: NodeJS.ProcessEnv) => Promise<C>;

/**
 * Where the apps' compiled entry points (main.js) are. The caller knows the layout it was built
 * into; a lib does not reach into the apps.
 */
export interface AppEntries {
  readonly coordinator: string;
  readonly worker: string;
  /** The summation service (`npm run aggregator`); needed only by a cluster that starts services. */
  readonly aggregator?: string;
}

export interface LocalClusterOptions {
  /** The entry points of the processes the cluster starts. */
  readonly entries: AppEntries;
  /**
   * Worker processes to start.
   * @defaultValue 0
   */
  readonly workers?: number;
  /**
   * Workers are named `<workerNamePrefix>-1`, `-2`, ….
   * @defaultValue 'worker'
   */
  readonly workerNamePrefix?: string;
  /**
   * A Redis to use: redis://host:port, or redis+cluster://host:port,… for a Redis Cluster. Without
   * it a private Redis starts on free loopback ports (see `redisClusterMasters`), with its data in a
   * temporary folder that stop() deletes.
   * @defaultValue a private Redis
   */
  readonly redisUrl?: string;
  /**
   * Without `redisUrl`: the private Redis is a Redis Cluster of this many masters (see
   * EmbeddedRedisCluster) instead of one redis-server.
   * @defaultValue unset: one redis-server
   */
  readonly redisClusterMasters?: number;
  /**
   * Key and queue prefix of the coordinator and workers.
   * @defaultValue DEFAULT_REDIS_PREFIX ('rc'), or '{rc}' on a Redis Cluster (see redisPrefixFor)
   */
  readonly prefix?: string;
  /**
   * Datasets' folder for the coordinator and workers.
   * @defaultValue the private Redis's folder; DATA_ROOT's default without a private Redis
   */
  readonly dataRoot?: string;
  /**
   * The coordinator's checkpoint folder.
   * @defaultValue `checkpoints` in the private Redis's folder; CHECKPOINT_DIR's default without one
   */
  readonly checkpointDir?: string;
  /**
   * How the coordinator runs: `'process'`, its own OS process on `port`; or a launcher that starts
   * it in this process (tests and benchmarks that look inside it).
   * @defaultValue 'process'
   */
  readonly coordinator?: 'process' | CoordinatorLauncher<CoordinatorHandle>;
  /**
   * The coordinator's HTTP port when it runs as a process (0: a free one).
   * @defaultValue a free port
   */
  readonly port?: number;
  /**
   * More environment for the coordinator (API_TOKEN, LOG_LEVEL, HOST, …), over this process's own.
   * @defaultValue none
   */
  readonly coordinatorEnv?: NodeJS.ProcessEnv;
  /**
   * Whether the coordinator's and workers' output shows in this process's console.
   * @defaultValue 'ignore'
   */
  readonly stdio?: 'inherit' | 'ignore';
  /**
   * Worker backend (`--backend`).
   * @defaultValue the worker's own default, 'auto'
   */
  readonly backend?: string;
  /**
   * Shard lock duration (`--lock-ms`); tests shorten it so a killed worker's shard moves on quickly.
   * @defaultValue the worker's own default
   */
  readonly lockMs?: number;
  /**
   * Benchmarks of coordination: workers sleep this long per shard instead of computing.
   * @defaultValue unset: workers compute
   */
  readonly simulateComputeMs?: number;
  /**
   * More environment for the workers (LOG_LEVEL, …), over this process's own.
   * @defaultValue none
   */
  readonly workerEnv?: NodeJS.ProcessEnv;
  /**
   * Summation service processes (`npm run aggregator`) to start, for jobs with aggregation 'services'.
   * @defaultValue 0
   */
  readonly services?: number;
  /**
   * The services' unit lease (`--lease-ms`).
   * @defaultValue the service's own default
   */
  readonly serviceLeaseMs?: number;
}

/**
 * A whole cluster on this machine: Redis (a private one unless given), the coordinator and N
 * worker processes, each worker a separate OS process exactly as on another machine. Used by
 * `up`, the tests and the benchmarks.
 */
export class LocalCluster<C extends CoordinatorHandle = CoordinatorProcess> {
  /** Coordinators started by addCoordinator, stopped with the cluster. */
  private readonly moreCoordinators: CoordinatorProcess[] = [];

  private constructor(
    /** The private redis-server, when the cluster started one. */
    readonly redisServer: EmbeddedRedis | null,
    /** The private Redis Cluster, when the cluster started one (see `redisClusterMasters`). */
    readonly redisCluster: EmbeddedRedisCluster | null,
    readonly redisUrl: string,
    readonly prefix: string,
    readonly dataRoot: string | undefined,
    readonly coordinator: C,
    readonly workers: WorkerPool,
    readonly services: ServicePool,
    private readonly entries: AppEntries,
    /** The environment the first coordinator was started with, for the ones added later. */
    private readonly coordinatorEnv: NodeJS.ProcessEnv,
    private readonly stdio: 'inherit' | 'ignore' | undefined,
  ) {}

  get url(): string {
    return this.coordinator.url;
  }

  static start<C extends CoordinatorHandle>(
    options: LocalClusterOptions & { readonly coordinator: CoordinatorLauncher<C> },
  ): Promise<LocalCluster<C>>;
  static start(
    options: LocalClusterOptions & { readonly coordinator?: 'process' },
  ): Promise<LocalCluster<CoordinatorProcess>>;
  static start(options: LocalClusterOptions): Promise<LocalCluster<CoordinatorHandle>>;
  static async start(options: LocalClusterOptions): Promise<LocalCluster<CoordinatorHandle>> {
    const startsCluster = !options.redisUrl && options.redisClusterMasters !== undefined;
    const redisServer = options.redisUrl || startsCluster ? null : await EmbeddedRedis.start();
    const redisCluster = startsCluster
      ? await EmbeddedRedisCluster.start({ masters: options.redisClusterMasters })
      : null;
    const privateRedis = redisServer ?? redisCluster;
    try {
      const redisUrl = options.redisUrl ?? privateRedis!.url;
      const prefix = redisPrefixFor(parseRedisAddress(redisUrl), options.prefix);
      const dataRoot = options.dataRoot ?? privateRedis?.dir;
      const checkpointDir =
        options.checkpointDir ?? (privateRedis ? path.join(privateRedis.dir, 'checkpoints') : undefined);
      const env: NodeJS.ProcessEnv = {
        ...options.coordinatorEnv,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        ...(dataRoot ? { DATA_ROOT: dataRoot } : {}),
        ...(checkpointDir ? { CHECKPOINT_DIR: checkpointDir } : {}),
      };
      const launch = options.coordinator ?? 'process';
      let coordinator: CoordinatorHandle;
      if (launch === 'process') {
        // Port 0 would leave the URL unknown: a free port is chosen here instead.
        const child = new CoordinatorProcess(
          options.entries.coordinator,
          options.port || (await freePort()),
          env,
          options.stdio,
        );
        await child.start();
        coordinator = child;
      } else {
        coordinator = await launch(env);
      }
      const workers = new WorkerPool({
        main: options.entries.worker,
        redisUrl,
        prefix,
        dataRoot,
        backend: options.backend,
        lockMs: options.lockMs,
        simulateComputeMs: options.simulateComputeMs,
        stdio: options.stdio,
        env: options.workerEnv,
      });
      workers.startMany(options.workers ?? 0, options.workerNamePrefix);
      const services = new ServicePool({
        main: options.entries.aggregator,
        redisUrl,
        prefix,
        leaseMs: options.serviceLeaseMs,
        stdio: options.stdio,
        env: options.workerEnv,
      });
      services.startMany(options.services ?? 0);
      return new LocalCluster(
        redisServer,
        redisCluster,
        redisUrl,
        prefix,
        dataRoot,
        coordinator,
        workers,
        services,
        options.entries,
        env,
        options.stdio,
      );
    } catch (err) {
      await privateRedis?.destroy();
      throw err;
    }
  }

  /** Waits until `count` workers have sent a heartbeat (they load TF.js and the data first). */
  async untilWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const workers = (await (await fetch(`${this.url}/workers`)).json()) as unknown[];
      if (workers.length >= count) return;
      if (Date.now() > deadline) throw new Error(`fewer than ${count} workers joined within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Starts one more coordinator process on the same Redis, prefix and folders, as a second replica
   * or a rolling update would; `env` goes over the first one's environment. stop() stops it too.
   */
  async addCoordinator(env: NodeJS.ProcessEnv = {}): Promise<CoordinatorProcess> {
    const coordinator = new CoordinatorProcess(
      this.entries.coordinator,
      await freePort(),
      { ...this.coordinatorEnv, ...env },
      this.stdio,
    );
    this.moreCoordinators.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  /** Stops the workers (SIGKILL: at once, mid-shard), the coordinators, and the private Redis (or Redis Cluster). */
  async stop(workerSignal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.workers.stopAll(workerSignal);
    await this.services.stopAll(workerSignal);
    await Promise.all(this.moreCoordinators.map((c) => c.close()));
    await this.coordinator.close();
    await this.redisServer?.destroy();
    await this.redisCluster?.destroy();
  }
}
