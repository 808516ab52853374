import * as assert from 'node:assert/strict';
import { ShardOutcome } from '@resnet/protocol';
import { mulberry32 } from '@resnet/data';
import { ModelTensorCodec, partitionedModel, PartitionedModelCodec, partitionOf } from '@resnet/job';
import { quietNestLogs } from '../../test/fixtures';
import { layoutsFor, testSpec } from '../../../../test/support/test-job-spec';
import { FakeJobRepository } from '../../test/repositories/job.repository.mock';
import { FakeShardDispatcher, ScriptedOutcome } from '../../test/training/dispatch/shard-dispatcher.mock';
import { FencedOffError } from '../errors/leadership.errors';
import { TrainingDivergedError } from '../errors/shard.errors';
import { MetricsService } from '../metrics/metrics.service';
import { WorkersService } from '../workers/workers.service';
import { StepRunner } from './step-runner';
import { inProcessWorkspace } from './aggregation/step-workspace.factory';

const spec = testSpec();
const layouts = layoutsFor(spec);
/** Every gradient value a shard sends, summed over its 4 samples. */
const GRADIENT_SUM = 0.4;

function gradientMessage(shard: number): Buffer {
  const params = new Float32Array(layouts.params.size).fill(GRADIENT_SUM);
  const state = new Float32Array(layouts.state.size).fill(1);
  return ModelTensorCodec.encode(layouts, params, state, { jobId: 'j', step: 0, shard, kind: 'gradient' });
}

function outcome(shard: number, fields: Partial<ShardOutcome> = {}): ShardOutcome {
  return {
    workerId: `w${shard}`,
    lossSum: 2,
    correct: 1,
    count: 4,
    computeMs: 10 + shard,
    gradientKeys: [`grad-${shard}`],
    gradientBytes: 100,
    ...fields,
  };
}

/** `quarantineOnRejection`: the workers service quarantines a worker at its first rejected result. */
function setUp(
  script: ScriptedOutcome,
  quarantined: string[] = [],
  { jobSpec = spec, quarantineOnRejection = false } = {},
) {
  const jobs = new FakeJobRepository();
  jobs.add('j', jobSpec, 'running');
  for (const shard of [0, 1]) jobs.values.set(`grad-${shard}`, gradientMessage(shard));
  const dispatcher = new FakeShardDispatcher(script);
  const rejectedOf: string[] = [];
  const workers = {
    quarantinedWorkers: async () => new Set(quarantined),
    recordRejectedResult: async (id: string) => {
      rejectedOf.push(id);
      return quarantineOnRejection;
    },
  } as unknown as WorkersService;
  const observed: number[] = [];
  const metrics = {
    observeStep: (_job: string, m: { step: number }) => observed.push(m.step),
  } as unknown as MetricsService;
  const runner = new StepRunner(jobs.as(), dispatcher.as(), workers, metrics);
  return { jobs, dispatcher, runner, rejectedOf, observed };
}

/** `fence`: the token the job's loop started under; the fake repository's leader holds 1. */
async function runStep(runner: StepRunner, jobs: FakeJobRepository, fence = 1, jobSpec = spec) {
  const model = partitionedModel(jobSpec, layouts);
  const weights = PartitionedModelCodec.decodeWeights(
    model.partitions,
    layouts,
    await jobs.weights('j', jobSpec, 0),
  );
  const before = weights.params[0];
  const velocity = PartitionedModelCodec.decodeVelocity(model.partitions, await jobs.velocity('j', jobSpec));
  const workspace = inProcessWorkspace(jobSpec, weights, velocity, jobs.blobs(), jobs.keys);
  const next = await runner.run({
    jobId: 'j',
    spec: jobSpec,
    step: 0,
    workspace,
    signal: new AbortController().signal,
    fence,
  });
  return { next, before };
}

describe('StepRunner', () => {
  quietNestLogs();

  it('folds the shards, applies SGD with the mean gradient and commits the next version', async () => {
    const { jobs, runner, observed } = setUp((shard) => outcome(shard));
    const { next, before } = await runStep(runner, jobs);
    // Momentum and weight decay are off: one plain SGD step with the mean gradient over 8 samples.
    assert.ok(Math.abs(next.params[0] - (before - 0.1 * ((2 * GRADIENT_SUM) / 8))) < 1e-6);
    assert.deepEqual(jobs.announced, [{ jobId: 'j', version: 0, previous: -1 }]);
    const [commit] = jobs.commits;
    assert.equal(commit.version, 1);
    assert.deepEqual([...commit.gradientKeys[0]].sort(), ['grad-0', 'grad-1']);
    assert.equal(commit.metrics.loss, 0.5);
    assert.equal(commit.metrics.accuracy, 0.25);
    assert.equal(commit.metrics.slowestShardMs, 11);
    assert.equal(commit.metrics.gradientBytes, 200);
    assert.equal(
      ModelTensorCodec.decode(layouts, (await jobs.weights('j', spec, 1))[0]).params[0],
      next.params[0],
    );
    assert.deepEqual(observed, [1]);
  });

  it('recomputes a shard whose worker reports non-finite numbers once, without blaming it', async () => {
    const { jobs, dispatcher, runner, rejectedOf } = setUp((shard, attempt) =>
      outcome(shard, shard === 1 && attempt === 1 ? { nonFinite: true, gradientKeys: undefined } : {}),
    );
    await runStep(runner, jobs);
    assert.deepEqual(
      dispatcher.rejections.map((r) => r.shard),
      [1],
    );
    assert.deepEqual(rejectedOf, []);
    assert.equal(jobs.commits.length, 1);
  });

  it('stops the job when the same shard is non-finite twice, naming the learning rate', async () => {
    const { jobs, runner } = setUp((shard) => outcome(shard, shard === 0 ? { nonFinite: true } : {}));
    await assert.rejects(runStep(runner, jobs), (err: Error) => {
      assert.ok(err instanceof TrainingDivergedError);
      assert.match(err.message, /lower the learning rate \(now 0\.1\)/);
      return true;
    });
    assert.equal(jobs.commits.length, 0);
  });

  it('rejects a corrupt message, blames its worker and uses the recomputed one', async () => {
    const { jobs, runner, rejectedOf } = setUp((shard, attempt) =>
      outcome(shard, shard === 0 && attempt === 1 ? { gradientKeys: ['truncated'] } : {}),
    );
    jobs.values.set('truncated', gradientMessage(0).subarray(0, 100));
    await runStep(runner, jobs);
    assert.deepEqual(rejectedOf, ['w0']);
    assert.equal(jobs.commits[0].metrics.loss, 0.5);
  });

  it('recomputes a shard whose message is missing without blaming its worker, who may not be at fault', async () => {
    const { jobs, dispatcher, runner, rejectedOf } = setUp((shard, attempt) =>
      outcome(shard, shard === 0 && attempt === 1 ? { gradientKeys: ['missing'] } : {}),
    );
    await runStep(runner, jobs);
    assert.equal(dispatcher.rejections.length, 1);
    assert.deepEqual(rejectedOf, []);
  });

  for (const [what, header] of [
    ['job', { jobId: 'other', step: 0, shard: 1 }],
    ['step', { jobId: 'j', step: 7, shard: 1 }],
    ['shard', { jobId: 'j', step: 0, shard: 0 }],
  ] as const) {
    it(`rejects a message addressed to another ${what}, blames its worker and recomputes the shard`, async () => {
      const { jobs, dispatcher, runner, rejectedOf } = setUp((shard, attempt) =>
        outcome(shard, shard === 1 && attempt === 1 ? { gradientKeys: ['misaddressed'] } : {}),
      );
      const params = new Float32Array(layouts.params.size).fill(GRADIENT_SUM);
      const state = new Float32Array(layouts.state.size).fill(1);
      jobs.values.set(
        'misaddressed',
        ModelTensorCodec.encode(layouts, params, state, { ...header, kind: 'gradient' }),
      );
      await runStep(runner, jobs);
      assert.match(dispatcher.rejections[0].err.message, /is addressed to job/);
      assert.deepEqual(rejectedOf, ['w1']);
      assert.equal(jobs.commits.length, 1);
    });
  }

  it('rejects a weights version sent as a gradient', async () => {
    const { jobs, dispatcher, runner, rejectedOf } = setUp((shard, attempt) =>
      outcome(shard, shard === 0 && attempt === 1 ? { gradientKeys: ['weights'] } : {}),
    );
    jobs.values.set('weights', (await jobs.weights('j', spec, 0))[0]);
    await runStep(runner, jobs);
    assert.equal(dispatcher.rejections.length, 1);
    assert.deepEqual(rejectedOf, ['w0']);
  });

  it('refuses to commit once another coordinator leads', async () => {
    const { jobs, runner } = setUp((shard) => outcome(shard));
    jobs.leaderFence = 2;
    await assert.rejects(runStep(runner, jobs), FencedOffError);
    assert.equal(jobs.commits.length, 0);
  });

  it('ignores the results of a quarantined worker without counting them against it', async () => {
    let quarantinedTries = 0;
    const { jobs, runner, rejectedOf } = setUp(
      (shard) => outcome(shard, shard === 1 && quarantinedTries++ === 0 ? { workerId: 'bad' } : {}),
      ['bad'],
    );
    await runStep(runner, jobs);
    assert.deepEqual(rejectedOf, []);
    assert.equal(jobs.commits.length, 1);
  });

  it('ignores the later results of a worker the step itself quarantines', async () => {
    const { jobs, dispatcher, runner, rejectedOf } = setUp(
      (shard, attempt) =>
        outcome(
          shard,
          attempt === 1 ? { workerId: 'bad', ...(shard === 0 ? { gradientKeys: ['weights'] } : {}) } : {},
        ),
      [],
      { quarantineOnRejection: true },
    );
    jobs.values.set('weights', (await jobs.weights('j', spec, 0))[0]);
    await runStep(runner, jobs);
    assert.deepEqual(
      dispatcher.rejections.map((r) => [r.shard, r.err.message]),
      [
        [0, dispatcher.rejections[0].err.message],
        [1, 'worker bad is quarantined'],
      ],
    );
    assert.deepEqual(rejectedOf, ['bad'], 'a quarantined result is not counted against its worker');
    assert.equal(jobs.commits.length, 1);
  });

  describe('with the model split into partitions', () => {
    const split = testSpec({
      partitions: 3,
      optimizer: { momentum: 0.9, weightDecay: 5e-4, nesterov: true },
    });
    const { partitions } = partitionedModel(split, layouts);

    /** Shard `shard`'s gradient and batch statistics: random, so that every value of the update differs. */
    function shardResult(shard: number): { params: Float32Array; state: Float32Array } {
      const random = mulberry32(100 + shard);
      return {
        params: Float32Array.from({ length: layouts.params.size }, () => random() - 0.5),
        state: Float32Array.from({ length: layouts.state.size }, () => random() + 0.5),
      };
    }

    /** Stores shard messages as a worker of a job with `count` partitions sends them; returns their keys. */
    function storeShard(jobs: FakeJobRepository, shard: number, count: number): string[] {
      const { partitions: parts } = partitionedModel({ partitions: count }, layouts);
      const result = shardResult(shard);
      return parts.map((p) => {
        const part = partitionOf(p, result);
        const key = `grad-${shard}-p${p.index}of${count}`;
        const meta = {
          jobId: 'j',
          step: 0,
          shard,
          kind: 'gradient',
          ...(count > 1 ? { partition: p.index } : {}),
        };
        jobs.values.set(key, ModelTensorCodec.encode(p.layouts, part.params, part.state, meta));
        return key;
      });
    }

    async function stepWith(count: number) {
      const jobSpec = { ...split, partitions: count };
      const keys = [0, 1].map((shard) => ({ shard, keys: [] as string[] }));
      const { jobs, runner } = setUp((shard) => outcome(shard, { gradientKeys: keys[shard].keys }), [], {
        jobSpec,
      });
      for (const k of keys) k.keys = storeShard(jobs, k.shard, count);
      const { next } = await runStep(runner, jobs, 1, jobSpec);
      return { next, jobs, keys };
    }

    it('steps to bitwise the weights, running statistics and momentum of the unsplit model', async () => {
      const whole = await stepWith(1);
      const parts = await stepWith(3);
      assert.deepEqual(parts.next.params, whole.next.params);
      assert.deepEqual(parts.next.state, whole.next.state);
      assert.deepEqual(parts.next.velocity, whole.next.velocity);
      const [commit] = parts.jobs.commits;
      const committed = await parts.jobs.weights('j', split, 1);
      assert.equal(committed.length, 3);
      assert.deepEqual(PartitionedModelCodec.decodeWeights(partitions, layouts, committed), {
        params: whole.next.params,
        state: whole.next.state,
      });
      // Each partition frees its own messages, which live under its own keys.
      assert.deepEqual(
        commit.gradientKeys.map((k) => [...k].sort()),
        [0, 1, 2].map((p) => [`grad-0-p${p}of3`, `grad-1-p${p}of3`]),
      );
    });

    it('rejects a shard whole when one of its partition messages is corrupt, and folds the recomputed one', async () => {
      const good = storeShardKeys();
      const { jobs, dispatcher, runner, rejectedOf } = setUp(
        (shard, attempt) => {
          const keys = [...good[shard]];
          if (shard === 0 && attempt === 1) keys[2] = 'truncated';
          return outcome(shard, { gradientKeys: keys });
        },
        [],
        { jobSpec: split },
      );
      for (const shard of [0, 1]) storeShard(jobs, shard, 3);
      jobs.values.set('truncated', jobs.values.get(good[0][2])!.subarray(0, 100));
      const { next } = await runStep(runner, jobs, 1, split);
      assert.equal(dispatcher.rejections.length, 1);
      assert.deepEqual(rejectedOf, ['w0']);
      assert.deepEqual(next.params, (await stepWith(3)).next.params);
    });

    it('rejects a result with fewer partition messages than the job has partitions', async () => {
      const { jobs, dispatcher, runner } = setUp(
        (shard, attempt) =>
          outcome(shard, {
            gradientKeys: attempt === 1 && shard === 1 ? ['whole'] : storeShardKeys()[shard],
          }),
        [],
        { jobSpec: split },
      );
      for (const shard of [0, 1]) storeShard(jobs, shard, 3);
      await runStep(runner, jobs, 1, split);
      assert.match(dispatcher.rejections[0].err.message, /sent 1 partition messages where the job has 3/);
    });

    function storeShardKeys(): string[][] {
      return [0, 1].map((shard) => [0, 1, 2].map((p) => `grad-${shard}-p${p}of3`));
    }
  });
});
