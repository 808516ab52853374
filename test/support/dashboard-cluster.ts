import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { LocalCluster } from '@resnet/local-cluster';
import { InProcessCoordinator, startCoordinatorFromEnv } from '../../apps/coordinator/src/bootstrap';
import { ShardQueue } from '../../apps/coordinator/src/repositories/shard-queue';
import { APP_ENTRIES } from '../support/app-entries';

/**
 * A private redis-server on a free port (never the shared one), the coordinator in this process
 * under a unique key prefix, and optional wasm worker processes.
 */
export class DashboardCluster {
  private constructor(private readonly cluster: LocalCluster<InProcessCoordinator>) {}

  static async start(workerCount: number, apiToken: string | null = null): Promise<DashboardCluster> {
    const cluster = await LocalCluster.start({
      entries: APP_ENTRIES,
      workers: workerCount,
      workerNamePrefix: 'dash-worker',
      prefix: `dash-${randomUUID().slice(0, 8)}`,
      backend: 'wasm',
      coordinator: startCoordinatorFromEnv,
      coordinatorEnv: {
        ...(apiToken ? { API_TOKEN: apiToken } : {}),
        // Quiet unless asked: the coordinator runs inside mocha's output.
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      },
    });
    return new DashboardCluster(cluster);
  }

  get url(): string {
    return this.cluster.url;
  }

  get app(): INestApplication {
    return this.cluster.coordinator.app;
  }

  get redis() {
    return this.cluster.redisServer!;
  }

  get workers() {
    return this.cluster.workers;
  }

  /** The key prefix of this cluster's coordinator and workers. */
  get prefix(): string {
    return this.cluster.prefix;
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
    await this.app.get(ShardQueue).waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.cluster.workers.stopAll('SIGKILL');
    // Known issue, noted in the README: after a Redis restart a BullMQ connection can keep the
    // coordinator's close() waiting; bound it so the suite ends, and say so.
    const closed = await Promise.race([
      this.app.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!closed) console.warn('    note: the coordinator did not close within 10 s after the Redis restart');
    await this.cluster.redisServer?.destroy();
  }
}
