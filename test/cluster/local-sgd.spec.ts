import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf, ModelWeights } from '@resnet/model';
import { lrAt } from '@resnet/optimizer';
import { ShardMessageMeta } from '@resnet/protocol';
import { ModelTensorCodec, scheduleOf } from '@resnet/job';
import { RejectedShardResultError } from '../../apps/coordinator/src/errors/shard.errors';
import { validatedContribution } from '../../apps/coordinator/src/training/shard-result.validator';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { SHORT_JOB } from '../support/short-job';
import { TestCluster, withTestCluster } from '../support/test-cluster';

const STEPS = 7;
/** Rounds cover steps 0–2, 3–5 and 6: the last round is shorter, and epoch 1 (4 steps) ends inside the second. */
const JOB = {
  ...SHORT_JOB,
  dataset: { ...SHORT_JOB.dataset, trainSize: 64, imageSize: 16 },
  shardsPerStep: 2,
  localSteps: 3,
  epochs: 2,
  maxSteps: STEPS,
  evalEvery: 1,
  checkpointEvery: 4,
};
/** Short shard locks, so a killed worker's shard is re-delivered within seconds. */
const LOCK_MS = 3000;
const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 4 }));

function bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

describe('local SGD across worker processes', function () {
  let reference: ModelWeights;

  before(async () => {
    await initComputeBackend('wasm');
  });

  /** Runs JOB to completion and checks its weights bitwise against the in-process local-SGD reference. */
  async function trainAndCompare(
    cluster: TestCluster,
    disturb: (jobId: string) => Promise<void>,
  ): Promise<any> {
    const job = await cluster.submit(JOB);
    await disturb(job.id);
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
    assert.equal(done.step, STEPS);
    assert.equal(done.spec.localSteps, 3);
    const weights = await cluster.weights(layouts, job.id, STEPS);
    reference ??= await referenceTraining(done.spec, STEPS, cluster.dataRoot);
    // The wasm backend is deterministic: same batches, same local steps, same order of sums, same bits.
    assert.deepEqual(bytes(weights.params), bytes(reference.params), 'parameters differ');
    assert.deepEqual(bytes(weights.state), bytes(reference.state), 'running statistics differ');
    return done;
  }

  it('ends bitwise equal to single-process local SGD, one version per round, evaluating and checkpointing after the round that passes an epoch', async () => {
    await withTestCluster({ workers: 2 }, async (cluster) => {
      for (const localSteps of [0, 65]) {
        const res = await cluster.request('POST', '/jobs', { ...JOB, localSteps });
        assert.equal(res.status, 400);
        assert.match(
          JSON.stringify(res.body.message),
          /localSteps must not be (less than 1|greater than 64)/,
        );
      }
      const done = await trainAndCompare(cluster, async () => undefined);
      const { steps, evals } = (await cluster.request('GET', `/jobs/${done.id}/metrics`)).body;
      assert.deepEqual(
        steps.map((s: any) => s.step),
        [3, 6, 7],
      );
      const schedule = scheduleOf(done.spec);
      assert.deepEqual(
        steps.map((s: any) => s.lr),
        [2, 5, 6].map((step) => lrAt(schedule, step)),
        "each round reports its last local step's rate",
      );
      for (const s of steps) assert.ok(s.loss > 0 && s.accuracy >= 0 && s.accuracy <= 1, JSON.stringify(s));
      assert.deepEqual(
        evals.map((e: any) => e.step),
        [6, 7],
      );
      const checkpoints = await fs.readdir(path.join(cluster.redisServer.dir, 'checkpoints', done.id));
      assert.deepEqual(checkpoints.sort(), ['step-0000006', 'step-0000007']);
      const initial = await referenceTraining(done.spec, 0, cluster.dataRoot);
      assert.ok(maxAbsDifference(initial.params, reference.params) > 1e-3, 'weights did not change');
    });
  });

  it('survives a worker killed with SIGKILL in the middle of a round: the redone shard gives the same bits', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS }, async (cluster) => {
      await trainAndCompare(cluster, (jobId) => cluster.killWorkerInStep('worker-1', jobId, 3));
    });
  });

  it('refuses a gradient message in a local-SGD job, and a delta in a synchronous one', () => {
    const header = { jobId: 'j', step: 0, shard: 0, partition: 0 };
    const message = (kind: ShardMessageMeta['kind']) =>
      ModelTensorCodec.encode(
        layouts,
        new Float32Array(layouts.params.size),
        new Float32Array(layouts.state.size),
        { ...header, kind } satisfies ShardMessageMeta,
      );
    const outcome = { workerId: 'w', lossSum: 1, correct: 0, count: 8, computeMs: 1, gradientKeys: ['k'] };
    assert.throws(
      () => validatedContribution(layouts, outcome, message('gradient'), { ...header, kind: 'delta' }),
      (err: Error) =>
        err instanceof RejectedShardResultError &&
        /a gradient where the job's local SGD needs a delta/.test(err.message),
    );
    assert.throws(
      () => validatedContribution(layouts, outcome, message('delta'), { ...header, kind: 'gradient' }),
      RejectedShardResultError,
    );
    assert.equal(
      validatedContribution(layouts, outcome, message('delta'), { ...header, kind: 'delta' }).count,
      8,
    );
  });
});
