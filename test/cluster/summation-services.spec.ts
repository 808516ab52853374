import * as assert from 'node:assert/strict';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf } from '@resnet/model';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { SHORT_JOB, SHORT_JOB_STEPS } from '../support/short-job';
import { TestCluster, withTestCluster } from '../support/test-cluster';

const STEPS = SHORT_JOB_STEPS;

/** Trains SHORT_JOB on summation services and returns the final weights and the job as it ended. */
async function trainOnServices(
  services: number,
  job: Record<string, unknown>,
  during?: (cluster: TestCluster, jobId: string) => Promise<void>,
): Promise<{ params: Float32Array; state: Float32Array; spec: any; dataRoot: string; metrics: any }> {
  return withTestCluster({ workers: 2, services }, async (cluster) => {
    await cluster.untilServices(services);
    const submitted = await cluster.submit({ ...SHORT_JOB, aggregation: 'services', ...job });
    await during?.(cluster, submitted.id);
    const done = await cluster.waitForJob(submitted.id);
    assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
    assert.equal(done.step, STEPS);
    const layouts = layoutsOf(architectureFor(done.spec.model, { numClasses: done.spec.numClasses }));
    const weights = await cluster.weights(layouts, submitted.id, STEPS);
    const metrics = (await cluster.request('GET', `/jobs/${submitted.id}/metrics`)).body;
    return { ...weights, spec: done.spec, dataRoot: cluster.dataRoot, metrics };
  });
}

async function assertBitwiseReference(run: Awaited<ReturnType<typeof trainOnServices>>): Promise<void> {
  const reference = await referenceTraining(run.spec, STEPS, run.dataRoot);
  assert.equal(
    maxAbsDifference(run.params, reference.params),
    0,
    'parameters differ from single-process SGD',
  );
  assert.equal(
    maxAbsDifference(run.state, reference.state),
    0,
    'running statistics differ from single-process SGD',
  );
  // The weights moved: services that applied nothing would fail here.
  const initial = await referenceTraining(run.spec, 0, run.dataRoot);
  assert.ok(maxAbsDifference(initial.params, run.params) > 1e-3, 'weights did not change');
}

describe('summation services: bitwise equal to single-process SGD', function () {
  before(async () => {
    await initComputeBackend('wasm');
  });

  it('1 service, 1 unit', async () => {
    const run = await trainOnServices(1, { units: 1 });
    assert.deepEqual([run.spec.units, run.spec.partitions], [1, 1]);
    assert.equal(run.metrics.steps.length, STEPS, 'every step committed once');
    await assertBitwiseReference(run);
  });

  it('2 services, 5 units, fold groups of 2', async () => {
    const run = await trainOnServices(2, { units: 5, foldGroup: 2 });
    assert.deepEqual([run.spec.units, run.spec.foldGroup], [5, 2]);
    await assertBitwiseReference(run);
  });

  it('3 services, 16 units, fold groups of 1', async () => {
    const run = await trainOnServices(3, { units: 16, foldGroup: 1 });
    assert.equal(run.spec.units, 16);
    await assertBitwiseReference(run);
  });
});
