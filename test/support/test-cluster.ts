import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ModelLayouts, ModelWeights } from '@resnet/model';
import { JobStatus, ModelTensorCodec, RedisKeys } from '@resnet/protocol';
import { EmbeddedRedis, freePort } from '../../apps/cli/src/embedded-redis';
import { WorkerPool } from '../../apps/cli/src/worker-pool';
import * as path from 'node:path';
import { startCoordinator } from '../../apps/coordinator/src/bootstrap';
import { configFromEnv } from '../../apps/coordinator/src/coordinator.config';
import { CoordinatorProcess } from './coordinator-process';

export interface TestClusterOptions {
  readonly workers: number;
  readonly dataRoot?: string;
  readonly backend?: string;
  readonly lockMs?: number;
  /** Run the coordinator as a child process (so it can be SIGKILLed) instead of in this process. */
  readonly coordinatorProcess?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A whole cluster on loopback for tests: a private redis-server on a free port (never the shared
 * instance), the coordinator in this process, and worker processes.
 */
export class TestCluster {
  private constructor(
    readonly redisServer: EmbeddedRedis,
    readonly coordinator: INestApplication | CoordinatorProcess,
    readonly url: string,
    readonly workers: WorkerPool,
    readonly redis: Redis,
    readonly keys: RedisKeys,
    readonly dataRoot: string,
  ) {}

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const redisServer = await EmbeddedRedis.start();
    const prefix = 'test';
    const dataRoot = options.dataRoot ?? redisServer.dir;
    let coordinator: INestApplication | CoordinatorProcess;
    let url: string;
    const env = {
      CHECKPOINT_DIR: path.join(redisServer.dir, 'checkpoints'),
      ...options.env,
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      DATA_ROOT: dataRoot,
    };
    if (options.coordinatorProcess) {
      coordinator = new CoordinatorProcess(await freePort(), env);
      await coordinator.start();
      url = coordinator.url;
    } else {
      coordinator = await startCoordinator(
        configFromEnv({ ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
      );
      url = await coordinator.getUrl();
    }
    const workers = new WorkerPool({
      redisUrl: redisServer.url,
      prefix,
      dataRoot,
      backend: options.backend ?? 'wasm',
      lockMs: options.lockMs,
    });
    workers.startMany(options.workers);
    const redis = new Redis(redisServer.url);
    redis.on('error', () => undefined); // tests restart Redis on purpose; commands still fail loudly
    return new TestCluster(redisServer, coordinator, url, workers, redis, new RedisKeys(prefix), dataRoot);
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async submit(body: unknown): Promise<any> {
    const res = await this.request('POST', '/jobs', body);
    if (res.status !== 201) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
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

  async weights(layouts: ModelLayouts, jobId: string, version: number): Promise<ModelWeights> {
    const buf = await this.redis.getBuffer(this.keys.weights(jobId, version));
    if (!buf) throw new Error(`no weights version ${version} for job ${jobId}`);
    return ModelTensorCodec.decode(layouts, buf);
  }

  async stop(): Promise<void> {
    await this.workers.stopAll('SIGKILL');
    await (this.coordinator instanceof CoordinatorProcess
      ? this.coordinator.stop()
      : this.coordinator.close());
    this.redis.disconnect();
    await this.redisServer.destroy();
  }
}
