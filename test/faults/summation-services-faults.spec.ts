import * as assert from 'node:assert/strict';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf } from '@resnet/model';
import { DISTURBED_JOB, DISTURBED_JOB_STEPS } from '../support/disturbed-job';
import { FirstUnitOnly, LateCopy, OneShardWorker } from '../support/one-shard-worker';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { TestCluster, withTestCluster } from '../support/test-cluster';

const STEPS = DISTURBED_JOB_STEPS;
const LEASE_MS = 1500;
const LOCK_MS = 3000;
const JOB = { ...DISTURBED_JOB, aggregation: 'services', units: 4 };

async function jobStep(cluster: TestCluster, id: string): Promise<number> {
  return (await cluster.request('GET', `/jobs/${id}`)).body.step;
}

async function untilStep(cluster: TestCluster, id: string, step: number): Promise<void> {
  while ((await jobStep(cluster, id)) < step) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Runs JOB on 2 workers and 2 summation services, disturbed by `disturb` once it is under way, and
 * checks that it ends bitwise equal to single-process SGD with every step's metrics once.
 */
async function disturbedRun(
  disturb: (cluster: TestCluster, jobId: string) => Promise<void>,
  workers = 2,
): Promise<{ cluster: TestCluster; jobId: string; record: any }> {
  return withTestCluster(
    { workers, services: 2, serviceLeaseMs: LEASE_MS, lockMs: LOCK_MS },
    async (cluster) => {
      await cluster.untilServices(2);
      const { id } = await cluster.submit(JOB);
      await disturb(cluster, id);
      const done = await cluster.waitForJob(id);
      assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
      const metrics = (await cluster.request('GET', `/jobs/${id}/metrics`)).body;
      assert.deepEqual(
        metrics.steps.map((m: { step: number }) => m.step),
        Array.from({ length: STEPS }, (_, i) => i + 1),
        'every step committed once',
      );
      const layouts = layoutsOf(architectureFor(done.spec.model, { numClasses: done.spec.numClasses }));
      const weights = await cluster.weights(layouts, id, STEPS);
      const reference = await referenceTraining(done.spec, STEPS, cluster.dataRoot);
      assert.equal(
        maxAbsDifference(weights.params, reference.params),
        0,
        'parameters differ from the undisturbed run',
      );
      assert.equal(maxAbsDifference(weights.state, reference.state), 0, 'running statistics differ');
      const record = JSON.parse((await cluster.redis.hget(cluster.keys.job(id), 'units'))!);
      return { cluster, jobId: id, record };
    },
  );
}

/** Units whose lease moved to another service since the job began (each unit's first epoch is 1). */
function movedUnits(record: { units: { unit: number; epoch: number }[] }): number[] {
  return record.units.filter((u) => u.epoch > 1).map((u) => u.unit);
}

describe('summation services under faults: bitwise equal to the undisturbed run', function () {
  before(async () => {
    await initComputeBackend('wasm');
  });

  it('a service SIGKILLed mid-job: its units move, the step is redone (or replayed from the durable step)', async () => {
    const { record } = await disturbedRun(async (cluster, id) => {
      await untilStep(cluster, id, 2);
      await cluster.services.kill('service-1', 'SIGKILL');
    });
    assert.ok(movedUnits(record).length > 0, 'the killed service’s units moved to the other');
  });

  it('a paused service returns after its lease moved: it serves and writes nothing any more', async () => {
    const { record } = await disturbedRun(async (cluster, id) => {
      await untilStep(cluster, id, 2);
      const paused = cluster.services.process('service-1')!;
      paused.kill('SIGSTOP');
      // Until every unit is service-2's: the paused one's leases lapsed and were taken over.
      const units = JOB.units;
      for (;;) {
        const owners = await Promise.all(
          Array.from({ length: units }, (_, u) =>
            cluster.redis.get(cluster.keys.partition(u, units).unitLease(id)),
          ),
        );
        if (owners.every((o) => o?.startsWith('service-2 '))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const step = await jobStep(cluster, id);
      await untilStep(cluster, id, Math.min(step + 1, STEPS));
      paused.kill('SIGCONT');
    });
    assert.ok(movedUnits(record).length > 0, 'the paused service’s units moved');
  });

  it('a worker that dies after pushing only some of a shard’s units: the shard is redone, the first copies count', async () => {
    let partial: OneShardWorker<FirstUnitOnly> | undefined;
    try {
      await disturbedRun(async (cluster) => {
        partial = new OneShardWorker(
          new FirstUnitOnly(),
          cluster.connections.url,
          cluster.connections.prefix,
          cluster.dataRoot,
          LOCK_MS,
        );
        await partial.units.firstPushed;
      }, 1);
      assert.equal(partial!.units.pushed, 1, 'it pushed one unit of its shard and no more');
    } finally {
      await partial?.close();
    }
  });

  it('a straggler’s shard is computed twice: the other worker’s copy counts, the late one is refused', async () => {
    let straggler: OneShardWorker<LateCopy> | undefined;
    let stepWhenSent: number | undefined;
    let answer: Awaited<LateCopy['answered']> | undefined;
    try {
      await disturbedRun(async (cluster, jobId) => {
        // It computes a shard, then sends it only once the job has committed that step without it:
        // its lock lapsed, so the other worker computed the shard too.
        straggler = new OneShardWorker(
          new LateCopy(async (task) => {
            await untilStep(cluster, jobId, task.step + 1);
            stepWhenSent = await jobStep(cluster, jobId);
          }),
          cluster.connections.url,
          cluster.connections.prefix,
          cluster.dataRoot,
          LOCK_MS,
        );
        answer = await straggler.units.answered;
      }, 1);
      const { task, refusal } = answer!;
      assert.ok(stepWhenSent! > task.step, `step ${task.step} was committed before the late copy came`);
      assert.ok(refusal, 'the late copy was refused');
      assert.equal(refusal.workersFault, false, 'a late copy is not held against its worker');
    } finally {
      await straggler?.close();
    }
  });
});
