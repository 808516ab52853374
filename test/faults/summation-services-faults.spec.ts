import * as assert from 'node:assert/strict';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf } from '@resnet/model';
import { DISTURBED_JOB, DISTURBED_JOB_STEPS } from '../support/disturbed-job';
import { PartialWorker } from '../support/partial-worker';
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
    let partial: PartialWorker | undefined;
    try {
      await disturbedRun(async (cluster) => {
        partial = new PartialWorker(
          cluster.connections.url,
          cluster.connections.prefix,
          cluster.dataRoot,
          LOCK_MS,
        );
        await partial.firstPushed;
      }, 1);
      assert.equal(partial!.pushed, 1, 'it pushed one unit of its shard and no more');
    } finally {
      await partial?.close();
    }
  });

  it('a straggler’s shard is computed twice: the first copy counts', async () => {
    await disturbedRun(async (cluster, id) => {
      await untilStep(cluster, id, 1);
      // Frozen mid-shard past its lock: its shard goes to the other worker, then it wakes and sends its copy late.
      type Busy = { id: string; currentShard?: string }[];
      for (;;) {
        const busy = ((await cluster.request('GET', '/workers')).body as Busy).find((w) => w.currentShard);
        if (busy) {
          const pid = cluster.workers.pids[cluster.workers.names.indexOf(busy.id)];
          process.kill(pid, 'SIGSTOP');
          await new Promise((r) => setTimeout(r, LOCK_MS * 2));
          process.kill(pid, 'SIGCONT');
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
});
