/**
 * CPU and GPU workers in one job: a shard is the same math on any backend, so a job served by a
 * webgpu worker (SwiftShader where there is no GPU) and a wasm worker follows the all-CPU run's
 * losses within float tolerance (not bitwise: the kernels differ).
 */
import * as assert from 'node:assert/strict';
import { WorkerPool } from '@resnet/local-cluster';
import { APP_ENTRIES } from '../support/app-entries';
import { SHORT_JOB, SHORT_JOB_STEPS } from '../support/short-job';
import { TestCluster, withTestCluster } from '../support/test-cluster';
import { webgpuForTests } from '../support/webgpu-adapter';

const STEPS = SHORT_JOB_STEPS;
const JOB = SHORT_JOB;

/** `beforeStep2` runs once the job has committed its first step. */
async function stepLosses(cluster: TestCluster, beforeStep2?: () => void): Promise<number[]> {
  const job = await cluster.submit(JOB);
  if (beforeStep2) {
    while ((await cluster.request('GET', `/jobs/${job.id}`)).body.step < 1)
      await new Promise((r) => setTimeout(r, 200));
    beforeStep2();
  }
  const done = await cluster.waitForJob(job.id, undefined, 600_000);
  assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
  const metrics = await cluster.request('GET', `/jobs/${job.id}/metrics`);
  return (metrics.body.steps as { step: number; loss: number }[])
    .sort((a, b) => a.step - b.step)
    .map((s) => s.loss);
}

describe('a job on CPU and GPU workers together', function () {
  before(async function () {
    // Also points this process's environment, which the workers inherit, at SwiftShader without a GPU.
    await webgpuForTests(this);
  });

  it('follows the all-CPU losses within float tolerance, the webgpu worker computing shards', async () => {
    const cpuLosses = await withTestCluster({ workers: 2 }, (cluster) => stepLosses(cluster));

    await withTestCluster({ workers: 0 }, async (cluster) => {
      const gpuWorkers = new WorkerPool({
        main: APP_ENTRIES.worker,
        redisUrl: cluster.redisServer.url,
        prefix: 'test',
        dataRoot: cluster.dataRoot,
        backend: 'webgpu',
        allowFallbackAdapter: true,
        stdio: 'inherit', // its log explains a failed start
        env: { LOG_LEVEL: 'warn' },
      });
      try {
        gpuWorkers.start('gpu-1');
        await cluster.waitForWorker('gpu-1');
        // The webgpu worker computes step 1 alone: on SwiftShader under load, a wasm worker there
        // from the start could take every shard. From step 2 both compute.
        const mixedLosses = await stepLosses(cluster, () => cluster.workers.start('cpu-1'));
        // A worker reports its speed with a heartbeat that travels beside its last result, not before it.
        const reported = async (): Promise<any[]> => (await cluster.request('GET', '/workers')).body as any[];
        let workers = await reported();
        for (let tries = 0; tries < 20 && !workers.every((w) => w.imagesPerSecond > 0); tries++) {
          await new Promise((r) => setTimeout(r, 500));
          workers = await reported();
        }
        const gpu = workers.find((w) => w.id === 'gpu-1');
        const cpu = workers.find((w) => w.id === 'cpu-1');
        assert.equal(gpu.backend, 'webgpu');
        assert.equal(typeof gpu.adapter?.description, 'string', 'the adapter is reported');
        assert.ok(gpu.imagesPerSecond > 0, 'the webgpu worker computed training shards');
        assert.equal(cpu.backend, 'wasm');
        assert.ok(cpu.imagesPerSecond > 0, 'the wasm worker computed training shards');

        assert.equal(mixedLosses.length, STEPS);
        mixedLosses.forEach((loss, i) => {
          const tolerance = 1e-3 * Math.max(1, Math.abs(cpuLosses[i]));
          assert.ok(
            Math.abs(loss - cpuLosses[i]) <= tolerance,
            `step ${i + 1}: loss ${loss} on mixed workers, ${cpuLosses[i]} on CPU workers`,
          );
        });
      } finally {
        await gpuWorkers.stopAll('SIGKILL');
      }
    });
  });
});
