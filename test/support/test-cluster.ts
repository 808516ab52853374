import { ModelLayouts, ModelWeights } from '@resnet/model';
import { JobStatus, RedisKeys } from '@resnet/protocol';
import { partitionedModel, PartitionedModelCodec, TrainingJobSpec } from '@resnet/job';
import {
  CoordinatorHandle,
  CoordinatorProcess,
  EmbeddedRedis,
  EmbeddedRedisCluster,
  LocalCluster,
  ServicePool,
  WorkerPool,
} from '@resnet/local-cluster';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { startCoordinatorFromEnv } from '../../apps/coordinator/src/bootstrap';
import { APP_ENTRIES } from './app-entries';

/** On a Redis Cluster in braces, as its hash tag (see redisPrefixFor). */
const PREFIX = 'test';

export interface TestClusterOptions {
  readonly workers: number;
  readonly dataRoot?: string;
  /** @defaultValue 'wasm' */
  readonly backend?: string;
  readonly lockMs?: number;
  /** Workers sleep this long per shard instead of computing (real weights and gradient traffic). */
  readonly simulateComputeMs?: number;
  /** Run the coordinator as a child process (so it can be SIGKILLed) instead of in this process. */
  readonly coordinatorProcess?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Run on a private Redis Cluster of this many masters instead of one redis-server. */
  readonly redisClusterMasters?: number;
  /** Summation service processes, for jobs with aggregation 'services'. */
  readonly services?: number;
  readonly serviceLeaseMs?: number;
}

/**
 * A LocalCluster for tests: a private redis-server (or Redis Cluster) on free ports (never the
 * shared instance), the coordinator (in this process unless asked), wasm worker processes, and
 * helpers to drive a job through the REST API and to read Redis directly.
 */
export class TestCluster {
  readonly keys: RedisKeys;
  /** Where request() and the helpers built on it send the API calls: the first coordinator unless told. */
  private apiUrl: string | null = null;

  private constructor(
    private readonly cluster: LocalCluster<CoordinatorHandle>,
    /** Opens more clients on the cluster's Redis and prefix, which their callers disconnect. */
    readonly connections: RedisConnections,
    readonly redis: RedisClient,
  ) {
    this.keys = connections.keys();
  }

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const cluster = await LocalCluster.start({
      entries: APP_ENTRIES,
      workers: options.workers,
      prefix: options.redisClusterMasters === undefined ? PREFIX : `{${PREFIX}}`,
      redisClusterMasters: options.redisClusterMasters,
      services: options.services,
      serviceLeaseMs: options.serviceLeaseMs,
      dataRoot: options.dataRoot,
      backend: options.backend ?? 'wasm',
      lockMs: options.lockMs,
      simulateComputeMs: options.simulateComputeMs,
      // Quiet unless asked: the coordinator runs inside mocha's output.
      coordinatorEnv: { LOG_LEVEL: 'warn', ...options.env },
      coordinator: options.coordinatorProcess ? 'process' : startCoordinatorFromEnv,
    });
    const connections = RedisConnections.fromUrl(cluster.redisUrl, cluster.prefix);
    const redis = connections.client();
    redis.on('error', () => undefined); // tests restart Redis on purpose; commands still fail loudly
    return new TestCluster(cluster, connections, redis);
  }

  get url(): string {
    return this.apiUrl ?? this.cluster.url;
  }

  /** One more coordinator process on this cluster's Redis and prefix (see LocalCluster.addCoordinator). */
  addCoordinator(env?: NodeJS.ProcessEnv): Promise<CoordinatorProcess> {
    return this.cluster.addCoordinator(env);
  }

  /** Sends the API calls to `coordinator` from now on: the first one is about to be killed or frozen. */
  useCoordinator(coordinator: { readonly url: string }): void {
    this.apiUrl = coordinator.url;
  }

  get redisServer(): EmbeddedRedis {
    return this.cluster.redisServer!;
  }

  /** The private Redis Cluster, in a cluster started with `redisClusterMasters`. */
  get redisCluster(): EmbeddedRedisCluster {
    return this.cluster.redisCluster!;
  }

  /** The coordinator's own process, in a cluster started with `coordinatorProcess`. */
  get coordinatorProcess(): CoordinatorProcess {
    const { coordinator } = this.cluster;
    if (!(coordinator instanceof CoordinatorProcess))
      throw new Error('start the cluster with coordinatorProcess');
    return coordinator;
  }

  get workers(): WorkerPool {
    return this.cluster.workers;
  }

  get services(): ServicePool {
    return this.cluster.services;
  }

  /** Waits until `count` summation services have registered (each heartbeats once it listens). */
  async untilServices(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.redis.hlen(this.keys.services())) < count) {
      if (Date.now() > deadline)
        throw new Error(`fewer than ${count} summation services registered within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get dataRoot(): string {
    return this.cluster.dataRoot!;
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    const send = (): Promise<Response> =>
      fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    // The coordinator runs in this process: a test that blocks the event loop (computing its
    // reference in-process) outlasts the server's keep-alive timeout, and the pooled connection is
    // closed under the next request. A read is safe to send again on a fresh connection.
    const res = await send().catch((err: Error) => {
      if (method !== 'GET' || !/ECONNRESET/.test(String((err.cause as Error | undefined)?.message)))
        throw err;
      return send();
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async submit(body: unknown): Promise<any> {
    const res = await this.request('POST', '/jobs', body);
    if (res.status !== 201) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Polls GET /workers until worker `id` has sent its first heartbeat (bounded). */
  async waitForWorker(id: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.request('GET', '/workers')).body.some((w: { id: string }) => w.id === id)) {
      if (Date.now() > deadline)
        throw new Error(`worker ${id} did not join within ${timeoutMs} ms (see its log)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Polls until the job leaves queued/running (bounded, so a hung job fails the test instead of the suite). */
  async waitForJob(
    id: string,
    until: JobStatus[] = ['completed', 'failed', 'cancelled'],
    timeoutMs = 240_000,
  ): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await this.request('GET', `/jobs/${id}`)).body;
      if (until.includes(job.status)) return job;
      if (Date.now() > deadline)
        throw new Error(`job ${id} still ${job.status} at step ${job.step} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Kills `worker` with SIGKILL while it computes a shard of the job's step `step` (or of the round starting there). */
  async killWorkerInStep(worker: string, jobId: string, step: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const workers = (await this.request('GET', '/workers')).body as { id: string; currentShard?: string }[];
      if (workers.find((w) => w.id === worker)?.currentShard?.startsWith(`${jobId}_train_${step}_`)) break;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${worker} to compute a shard of step ${step}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.workers.kill(worker, 'SIGKILL');
  }

  /** Weights version `version`, gathered from the partitions the job stores it in. */
  async weights(layouts: ModelLayouts, jobId: string, version: number): Promise<ModelWeights> {
    const spec = JSON.parse(
      (await this.redis.hget(this.keys.job(jobId), 'spec')) ?? 'null',
    ) as TrainingJobSpec | null;
    if (!spec) throw new Error(`no job ${jobId}`);
    const { partitions } = partitionedModel(spec, layouts);
    const messages = await Promise.all(
      partitions.map(async (p) => {
        const buf = await this.redis.getBuffer(
          this.keys.partition(p.index, partitions.length).weights(jobId, version),
        );
        if (!buf) throw new Error(`no weights version ${version} for job ${jobId}`);
        return buf;
      }),
    );
    return PartitionedModelCodec.decodeWeights(partitions, layouts, messages);
  }

  async stop(): Promise<void> {
    this.redis.disconnect();
    await this.cluster.stop('SIGKILL');
  }
}

/** Starts a cluster before a suite's tests, hands it over, and stops it after them. */
export function useTestCluster(options: TestClusterOptions, started: (cluster: TestCluster) => void): void {
  let cluster: TestCluster | undefined;
  before(async () => {
    cluster = await TestCluster.start(options);
    started(cluster);
  });
  after(async () => cluster?.stop());
}

/** Runs `body` on a cluster of its own, stopping the cluster however `body` ends. */
export async function withTestCluster<T>(
  options: TestClusterOptions,
  body: (cluster: TestCluster) => Promise<T>,
): Promise<T> {
  const cluster = await TestCluster.start(options);
  try {
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}
