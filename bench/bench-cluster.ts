import { JobMetrics, StepMetrics } from '@resnet/protocol';
import { EmbeddedRedis } from '../apps/cli/src/embedded-redis';
import { WorkerPool } from '../apps/cli/src/worker-pool';
import { startCoordinator } from '../apps/coordinator/src/bootstrap';
import { configFromEnv } from '../apps/coordinator/src/coordinator.config';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs one job on a fresh local cluster (private Redis, in-process coordinator, worker processes)
 * and returns its step metrics without the first `warmup` steps, which include start-up costs,
 * and its evaluations.
 */
export async function runClusterJob(
  workers: number,
  job: Record<string, unknown>,
  warmup = 1,
): Promise<JobMetrics> {
  const redis = await EmbeddedRedis.start();
  const app = await startCoordinator(
    configFromEnv({
      PORT: '0',
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'bench',
      DATA_ROOT: redis.dir,
      CHECKPOINT_DIR: redis.dir,
      LOG_LEVEL: 'warn',
    }),
  );
  const pool = new WorkerPool({ redisUrl: redis.url, prefix: 'bench', backend: process.env.BENCH_BACKEND });
  pool.startMany(workers);
  try {
    const url = await app.getUrl();
    const res = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job),
    });
    const created = await res.json();
    if (res.status !== 201) throw new Error(`job rejected: ${JSON.stringify(created)}`);
    for (;;) {
      const state = await (await fetch(`${url}/jobs/${created.id}`)).json();
      if (state.status === 'completed') break;
      if (state.status !== 'running' && state.status !== 'queued')
        throw new Error(`job ${state.status}: ${state.error}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { steps, evals } = await (await fetch(`${url}/jobs/${created.id}/metrics`)).json();
    return { steps: (steps as StepMetrics[]).slice(warmup), evals };
  } finally {
    await pool.stopAll();
    await app.close();
    await redis.destroy();
  }
}
