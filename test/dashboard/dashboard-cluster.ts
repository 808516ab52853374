import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { EmbeddedRedis } from '../../apps/cli/src/embedded-redis';
import { WorkerPool } from '../../apps/cli/src/worker-pool';
import { startCoordinator } from '../../apps/coordinator/src/bootstrap';
import { LogLevel } from '../../apps/coordinator/src/coordinator.config';
import { ShardDispatcher } from '../../apps/coordinator/src/training/shard-dispatcher';

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

  static async start(workerCount: number): Promise<DashboardCluster> {
    const redis = await EmbeddedRedis.start();
    const redisPrefix = `dash-${randomUUID().slice(0, 8)}`;
    const app = await startCoordinator({
      port: 0,
      host: '127.0.0.1',
      redisUrl: redis.url,
      redisPrefix,
      dataRoot: redis.dir,
      checkpointDir: redis.dir,
      apiToken: null,
      // Quiet unless asked: the coordinator runs inside mocha's output.
      logLevel: (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'error',
    });
    const workers = new WorkerPool({ redisUrl: redis.url, prefix: redisPrefix, dataRoot: redis.dir, backend: 'wasm' });
    workers.startMany(workerCount, 'dash-worker');
    return new DashboardCluster(redis, app, await app.getUrl(), workers);
  }

  async get(path: string): Promise<{ status: number; text: string; contentType: string | null }> {
    const res = await fetch(`${this.url}${path}`);
    return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
  }

  /**
   * The shard dispatcher's QueueEvents connection reconnects on its own schedule, and closing it
   * mid-reconnect never finishes (BullMQ waits for an 'end' that ioredis does not emit then); wait
   * until it is connected so that stop() can close the coordinator.
   */
  async settleAfterRedisRestart(timeoutMs = 15_000): Promise<void> {
    const { events } = this.app.get(ShardDispatcher) as unknown as { events: QueueEvents };
    const client = await events.client;
    const deadline = Date.now() + timeoutMs;
    while (client.status !== 'ready') {
      if (Date.now() > deadline) throw new Error(`the shard queue's event connection is still ${client.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.workers.stopAll('SIGKILL');
    await this.app.close();
    await this.redis.destroy();
  }
}
