import * as assert from 'node:assert/strict';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf } from '@resnet/model';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { SHORT_JOB, SHORT_JOB_STEPS } from '../support/short-job';
import { withTestCluster } from '../support/test-cluster';

const STEPS = SHORT_JOB_STEPS;
const JOB = SHORT_JOB;

async function trainOnCluster(
  workers: number,
  job: Record<string, unknown> = {},
): Promise<{ params: Float32Array; state: Float32Array; spec: any; dataRoot: string }> {
  return withTestCluster({ workers }, async (cluster) => {
    const submitted = await cluster.submit({ ...JOB, ...job });
    const done = await cluster.waitForJob(submitted.id);
    assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
    assert.equal(done.step, STEPS);
    const layouts = layoutsOf(architectureFor(done.spec.model, { numClasses: done.spec.numClasses }));
    const weights = await cluster.weights(layouts, submitted.id, STEPS);
    return { ...weights, spec: done.spec, dataRoot: cluster.dataRoot };
  });
}

describe('synchronous data-parallel SGD across worker processes', function () {
  before(async () => {
    await initComputeBackend('wasm');
  });

  it('4 shards on 3 workers end with the weights of single-process SGD over the same shards', async () => {
    const cluster = await trainOnCluster(3);
    const reference = await referenceTraining(cluster.spec, STEPS, cluster.dataRoot);
    const params = maxAbsDifference(cluster.params, reference.params);
    const state = maxAbsDifference(cluster.state, reference.state);
    assert.ok(params <= 1e-5, `parameters differ by up to ${params}`);
    assert.ok(state <= 1e-5, `batch-norm running statistics differ by up to ${state}`);
    // The wasm backend is deterministic: same shards, same order, same bits.
    assert.deepEqual(
      Buffer.from(cluster.params.buffer, cluster.params.byteOffset, cluster.params.byteLength),
      Buffer.from(reference.params.buffer, reference.params.byteOffset, reference.params.byteLength),
    );
    // The weights moved: a cluster that applied nothing would fail here.
    const initial = await referenceTraining(cluster.spec, 0, cluster.dataRoot);
    assert.ok(maxAbsDifference(initial.params, cluster.params) > 1e-3, 'weights did not change');
  });

  it('splits aggregation into 3 partitions and ends with bitwise the weights of single-process SGD', async () => {
    const split = await trainOnCluster(2, { partitions: 3 });
    assert.equal(split.spec.partitions, 3);
    const reference = await referenceTraining(split.spec, STEPS, split.dataRoot);
    assert.equal(maxAbsDifference(split.params, reference.params), 0);
    assert.equal(maxAbsDifference(split.state, reference.state), 0);
  });

  it('is elastic: the same job on 1 worker and on 3 workers ends with the same weights', async () => {
    const one = await trainOnCluster(1);
    const three = await trainOnCluster(3);
    assert.equal(maxAbsDifference(one.params, three.params), 0);
    assert.equal(maxAbsDifference(one.state, three.state), 0);
  });
});
