import { JobMetrics, StepMetrics } from '@resnet/protocol';
import { LocalCluster } from '@resnet/local-cluster';
import { startCoordinatorFromEnv } from '../apps/coordinator/src/bootstrap';
import { APP_ENTRIES } from './app-entries';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Submits a job to the coordinator at `url`; resolves with the job as POST /jobs answers it. */
export async function submitJob(url: string, job: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job),
  });
  const created = await res.json();
  if (res.status !== 201) throw new Error(`job rejected: ${JSON.stringify(created)}`);
  return created;
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
  const cluster = await LocalCluster.start({
    entries: APP_ENTRIES,
    workers,
    prefix: 'bench',
    backend: process.env.BENCH_BACKEND,
    coordinator: startCoordinatorFromEnv,
    coordinatorEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    const { url } = cluster;
    const created = await submitJob(url, job);
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
    await cluster.stop();
  }
}
