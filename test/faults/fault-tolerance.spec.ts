import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initComputeBackend } from '@resnet/engine';
import { architectureFor, layoutsOf, ModelWeights } from '@resnet/model';
import { WorkerView } from '@resnet/protocol';
import { CoordinatorProcess } from '@resnet/local-cluster';
import { DISTURBED_JOB, DISTURBED_JOB_STEPS } from '../support/disturbed-job';
import { FaultyWorker } from '../support/faulty-worker';
import { maxAbsDifference, referenceTraining } from '../support/reference-training';
import { TestCluster, withTestCluster } from '../support/test-cluster';

const STEPS = DISTURBED_JOB_STEPS;
const JOB = DISTURBED_JOB;
/** Short shard locks, so a killed worker's shard is re-delivered within seconds. */
const LOCK_MS = 3000;

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Waits until the job has committed step `step`. */
const stepReached = (cluster: TestCluster, jobId: string, step: number) =>
  until(
    `step ${step} committed`,
    async () => (await cluster.request('GET', `/jobs/${jobId}`)).body.step >= step,
  );

/** Crashes and coordinator incidents are not faults: no worker is quarantined or has a rejected result. */
async function expectNoWorkerBlamed(cluster: TestCluster): Promise<void> {
  assert.deepEqual(await cluster.redis.smembers(cluster.keys.quarantine()), [], 'no worker quarantined');
  const faults = await cluster.redis.keys(cluster.keys.workerFaults('*'));
  assert.deepEqual(faults, [], 'no rejected results');
}

describe('fault tolerance: a disturbed job ends with the weights of an undisturbed one', function () {
  let undisturbed: ModelWeights;
  const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 4 }));

  before(async () => {
    await initComputeBackend('wasm');
  });

  /** Runs the job with a disturbance and checks the final weights bitwise against single-process SGD. */
  async function runDisturbed(
    cluster: TestCluster,
    disturb: (jobId: string) => Promise<void>,
  ): Promise<{ params: Float32Array; state: Float32Array }> {
    const job = await cluster.submit(JOB);
    await disturb(job.id);
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
    const weights = await cluster.weights(layouts, job.id, STEPS);
    undisturbed ??= await referenceTraining(done.spec, STEPS, cluster.dataRoot);
    assert.equal(maxAbsDifference(weights.params, undisturbed.params), 0, 'parameters differ');
    assert.equal(maxAbsDifference(weights.state, undisturbed.state), 0, 'running statistics differ');
    return weights;
  }

  it('survives a worker killed with SIGKILL in the middle of a shard', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS }, async (cluster) => {
      await runDisturbed(cluster, (jobId) => cluster.killWorkerInStep('worker-1', jobId, 2));
    });
  });

  it('resumes after the coordinator is killed with SIGKILL mid-step and restarted', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS, coordinatorProcess: true }, async (cluster) => {
      const coordinator = cluster.coordinatorProcess;
      await runDisturbed(cluster, async (jobId) => {
        await stepReached(cluster, jobId, 2);
        await coordinator.stop('SIGKILL');
        await coordinator.start();
      });
      const { steps } = (
        await cluster.request('GET', `/jobs/${(await cluster.request('GET', '/jobs')).body[0].id}/metrics`)
      ).body;
      assert.deepEqual(
        steps.map((s: any) => s.step),
        [1, 2, 3, 4, 5, 6],
        'every step applied exactly once',
      );
    });
  });

  it('continues when Redis restarts mid-training (append-only file)', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS }, async (cluster) => {
      await runDisturbed(cluster, async (jobId) => {
        await stepReached(cluster, jobId, 2);
        await cluster.redisServer.stop();
        await new Promise((r) => setTimeout(r, 1000));
        await cluster.redisServer.launch();
      });
    });
  });

  it('rejects a NaN gradient and a truncated message, recomputes those shards, and counts them against the sender', async () => {
    await withTestCluster({ workers: 0, lockMs: LOCK_MS }, async (cluster) => {
      const faulty = new FaultyWorker(
        cluster.redisServer.url,
        'test',
        'faulty-1',
        (n) => (n === 0 ? 'nan-gradient' : 'truncated-message'),
        2,
      );
      try {
        await runDisturbed(cluster, async () => {
          await until('two faulty results sent', async () => faulty.processed >= 2);
          await faulty.close();
          cluster.workers.startMany(1);
        });
        assert.equal(await cluster.redis.zcard(cluster.keys.workerFaults('faulty-1')), 2);
      } finally {
        await faulty.close();
      }
    });
  });

  it('quarantines a worker that keeps sending bad results, and the job still ends right', async () => {
    await withTestCluster({ workers: 0, lockMs: LOCK_MS }, async (cluster) => {
      const faulty = new FaultyWorker(cluster.redisServer.url, 'test', 'faulty-2', () => 'nan-gradient');
      try {
        await runDisturbed(cluster, async (jobId) => {
          await until(
            'faulty worker quarantined',
            async () => (await cluster.redis.sismember(cluster.keys.quarantine(), 'faulty-2')) === 1,
          );
          // Its only worker quarantined, the job says why it does not move on.
          const stuck = (await cluster.request('GET', `/jobs/${jobId}`)).body;
          assert.match(stuck.workersUnavailable, /^no worker can take shards: faulty-2 is quarantined/);
          cluster.workers.startMany(1);
        });
        const workers = (await cluster.request('GET', '/workers')).body as any[];
        assert.equal(workers.find((w) => w.id === 'faulty-2')?.quarantined, true);
        assert.equal(workers.find((w) => w.id === 'worker-1')?.quarantined, false);
      } finally {
        await faulty.close();
      }
    });
  });

  it('stops a diverging job with a clear reason instead of writing NaN weights', async () => {
    await withTestCluster({ workers: 1 }, async (cluster) => {
      const job = await cluster.submit({ ...JOB, lr: 100, maxSteps: 30, schedule: { decay: 'constant' } });
      const done = await cluster.waitForJob(job.id);
      assert.equal(done.status, 'failed');
      assert.match(done.error, /diverged|lower the learning rate/);
      const weights = await cluster.weights(layouts, job.id, done.step);
      assert.ok(weights.params.every(Number.isFinite), 'committed weights are finite');
      // A failed job resumes from its last commit: here it diverges again, at the same step.
      const resumed = await cluster.request('POST', `/jobs/${job.id}/resume`);
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      assert.equal(resumed.body.error, undefined);
      const again = await cluster.waitForJob(job.id);
      assert.equal(again.status, 'failed');
      assert.equal(again.step, done.step);
    });
  });

  it('kills the worker of one shard 5 times in a row: the shard is re-queued each time and the job ends right', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS }, async (cluster) => {
      await runDisturbed(cluster, async (jobId) => {
        const shard = `${jobId}_train_2_0`;
        for (let kill = 1; kill <= 5; kill++) {
          let holder: string | undefined;
          await until(`a worker computing ${shard} (kill ${kill})`, async () => {
            const workers = (await cluster.request('GET', '/workers')).body as WorkerView[];
            holder = workers.find((w) => w.alive && w.currentShard === shard)?.id;
            return holder !== undefined;
          });
          await cluster.workers.kill(holder!, 'SIGKILL');
          cluster.workers.start(`replacement-${kill}`);
        }
      });
      await expectNoWorkerBlamed(cluster);
    });
  });

  it('rejects messages addressed to another job, step, shard or kind, blames the sender and recomputes them', async () => {
    await withTestCluster(
      { workers: 0, lockMs: LOCK_MS, env: { QUARANTINE_AFTER_REJECTED: '10' } },
      async (cluster) => {
        const faults = ['wrong-job', 'wrong-step', 'wrong-shard', 'wrong-kind'] as const;
        const faulty = new FaultyWorker(
          cluster.redisServer.url,
          'test',
          'misaddressing-1',
          (n) => faults[n],
          4,
        );
        try {
          await runDisturbed(cluster, async () => {
            await until('four mis-addressed results sent', async () => faulty.processed >= 4);
            // Started first: the faulty worker's close can wait for its blocking read of the queue.
            cluster.workers.startMany(1);
            await faulty.close();
          });
          assert.equal(await cluster.redis.zcard(cluster.keys.workerFaults('misaddressing-1')), 4);
        } finally {
          await faulty.close();
        }
      },
    );
  });

  describe('several coordinators on one Redis: one leads, the others take over', () => {
    /** Short, so that a takeover takes seconds; generous enough for a loaded machine's renewals. */
    const LEASE_ENV = { LEADER_LEASE_MS: '3000' };

    /** Two workers and a coordinator process, which the tests add followers to and kill. */
    const COORDINATOR_CLUSTER = { workers: 2, lockMs: LOCK_MS, coordinatorProcess: true, env: LEASE_ENV };

    const leadership = async (url: string) =>
      (await (await fetch(`${url}/health`)).json()).info.leadership as {
        coordinator: string;
        leader: string | null;
        leading: boolean;
      };

    const leads = (url: string) =>
      until(`the coordinator at ${url} leading`, async () => (await leadership(url)).leading);

    async function expectEachStepOnce(cluster: TestCluster, jobId: string): Promise<void> {
      const { steps } = (await cluster.request('GET', `/jobs/${jobId}/metrics`)).body;
      assert.deepEqual(
        steps.map((m: { step: number }) => m.step),
        [1, 2, 3, 4, 5, 6],
        'each step committed exactly once',
      );
    }

    it('a second coordinator started mid-job follows: each step is committed once', async () => {
      await withTestCluster(COORDINATOR_CLUSTER, async (cluster) => {
        let jobId = '';
        let second: CoordinatorProcess | undefined;
        await runDisturbed(cluster, async (id) => {
          jobId = id;
          await stepReached(cluster, id, 2);
          second = await cluster.addCoordinator();
        });
        await expectEachStepOnce(cluster, jobId);
        // Usually the first leads throughout; a machine loaded enough to delay its renewals hands the
        // lead over, which is no less correct. Either way exactly one leads, and both name it.
        await until('one leader named by both coordinators', async () => {
          const views = [await leadership(cluster.url), await leadership(second!.url)];
          const leaders = views.filter((v) => v.leading).map((v) => v.coordinator);
          return leaders.length === 1 && views.every((v) => v.leader === leaders[0]);
        });
        await expectNoWorkerBlamed(cluster);
      });
    });

    it('the leader killed with SIGKILL, twice: each time a follower takes over from the last commit, and no worker is blamed', async () => {
      await withTestCluster(COORDINATOR_CLUSTER, async (cluster) => {
        /** One incident: a job whose leader is killed at step 2 while `next` follows. */
        const killLeaderDuringJob = async (leader: CoordinatorProcess, next: CoordinatorProcess) => {
          let jobId = '';
          await runDisturbed(cluster, async (id) => {
            jobId = id;
            await stepReached(cluster, id, 2);
            cluster.useCoordinator(next);
            await leader.stop('SIGKILL');
            await leads(next.url);
          });
          await expectEachStepOnce(cluster, jobId);
        };
        const second = await cluster.addCoordinator();
        await killLeaderDuringJob(cluster.coordinatorProcess, second);
        await killLeaderDuringJob(second, await cluster.addCoordinator());
        await expectNoWorkerBlamed(cluster);
      });
    });

    it('the leader frozen past its lease: the follower takes over, and the thawed one is refused and steps down', async () => {
      await withTestCluster(COORDINATOR_CLUSTER, async (cluster) => {
        const frozen = cluster.coordinatorProcess;
        try {
          const follower = await cluster.addCoordinator();
          let jobId = '';
          await runDisturbed(cluster, async (id) => {
            jobId = id;
            await stepReached(cluster, id, 2);
            cluster.useCoordinator(follower);
            frozen.freeze(true);
            await leads(follower.url);
            frozen.freeze(false);
          });
          await until(
            'the thawed coordinator following',
            async () => !(await leadership(frozen.url)).leading,
          );
          const job = (await cluster.request('GET', `/jobs/${jobId}`)).body;
          assert.equal(job.status, 'completed', `job ended ${job.status}: ${job.error ?? ''}`);
          assert.equal(job.error, undefined);
          await expectEachStepOnce(cluster, jobId);
          await expectNoWorkerBlamed(cluster);
        } finally {
          frozen.freeze(false);
        }
      });
    });
  });
});

describe('checkpoints: a job survives Redis losing its data', function () {
  const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 4 }));
  let undisturbed: ModelWeights;

  before(async () => {
    await initComputeBackend('wasm');
  });

  async function expectUndisturbed(cluster: TestCluster, jobId: string): Promise<void> {
    const done = await cluster.waitForJob(jobId);
    assert.equal(done.status, 'completed', `job ended ${done.status}: ${done.error ?? ''}`);
    undisturbed ??= await referenceTraining(done.spec, STEPS, cluster.dataRoot);
    const weights = await cluster.weights(layouts, jobId, STEPS);
    assert.equal(maxAbsDifference(weights.params, undisturbed.params), 0, 'parameters differ');
    assert.equal(maxAbsDifference(weights.state, undisturbed.state), 0, 'running statistics differ');
  }

  it('resumes from the last disk checkpoint when Redis restarts empty mid-training', async () => {
    await withTestCluster({ workers: 2, lockMs: LOCK_MS }, async (cluster) => {
      const job = await cluster.submit({ ...JOB, checkpointEvery: 2 });
      await stepReached(cluster, job.id, 3);
      await cluster.redisServer.stop('SIGKILL');
      await cluster.redisServer.wipe();
      await cluster.redisServer.launch();
      await expectUndisturbed(cluster, job.id);
    });
  });

  it('writes TF.js checkpoints and resumes a job from a checkpoint folder over REST', async () => {
    await withTestCluster({ workers: 2 }, async (cluster) => {
      const job = await cluster.submit({ ...JOB, checkpointEvery: 3 });
      assert.equal((await cluster.waitForJob(job.id)).status, 'completed');
      const folder = `${job.id}/step-0000003`;
      const model = JSON.parse(
        fs.readFileSync(path.join(cluster.redisServer.dir, 'checkpoints', folder, 'model.json'), 'utf8'),
      );
      assert.ok(
        model.modelTopology && model.weightsManifest[0].paths[0] === 'weights.bin',
        'TF.js LayersModel format',
      );
      await cluster.redis.flushall();
      const res = await cluster.request('POST', '/jobs/restore', { checkpoint: folder });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.step, 3);
      await expectUndisturbed(cluster, job.id);
      const again = await cluster.request('POST', '/jobs/restore', { checkpoint: folder });
      assert.equal(again.status, 409);
      const outside = await cluster.request('POST', '/jobs/restore', { checkpoint: '../../etc/step-1' });
      assert.equal(outside.status, 400);
    });
  });
});
