import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { EmbeddedRedis } from '../../apps/cli/src/embedded-redis';
import { WorkerPool } from '../../apps/cli/src/worker-pool';
import { startCoordinator } from '../../apps/coordinator/src/bootstrap';
import { LogLevel } from '../../apps/coordinator/src/coordinator.config';
import { ShardDispatcher } from '../../apps/coordinator/src/repositories/shard-dispatcher';

/**
 * A private redis-server on a free port (never the shared one), the coordinator in this process
 * under a unique key prefix, and optional wasm worker processes.
 */
export class DashboardCluster {
  private constructor(
    readonly redis: EmbeddedRedis,
    readonly app: INestApplication,
    readonly url: string,
    readonly workers: WorkerPool,
  ) {}

  static async start(workerCount: number, apiToken: string | null = null): Promise<DashboardCluster> {
    const redis = await EmbeddedRedis.start();
    const redisPrefix = `dash-${randomUUID().slice(0, 8)}`;
    const app = await startCoordinator({
      port: 0,
      host: '127.0.0.1',
      redisUrl: redis.url,
      redisPrefix,
      dataRoot: redis.dir,
      checkpointDir: redis.dir,
      apiToken,
      // Quiet unless asked: the coordinator runs inside mocha's output.
      logLevel: (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'error',
    });
    const workers = new WorkerPool({
      redisUrl: redis.url,
      prefix: redisPrefix,
      dataRoot: redis.dir,
      backend: 'wasm',
    });
    workers.startMany(workerCount, 'dash-worker');
    return new DashboardCluster(redis, app, await app.getUrl(), workers);
  }

  async get(path: string): Promise<{ status: number; text: string; contentType: string | null }> {
    const res = await fetch(`${this.url}${path}`);
    return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
  }

  /**
   * BullMQ's close() waits for a clean disconnect, which never comes while a connection is still
   * reconnecting after a Redis restart: wait until the coordinator's queue connections are back.
   */
  async settleAfterRedisRestart(): Promise<void> {
    await this.app.get(ShardDispatcher).waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.workers.stopAll('SIGKILL');
    // Known issue, noted in the README: after a Redis restart a BullMQ connection can keep the
    // coordinator's close() waiting; bound it so the suite ends, and say so.
    const closed = await Promise.race([
      this.app.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!closed) console.warn('    note: the coordinator did not close within 10 s after the Redis restart');
    await this.redis.destroy();
  }
}
