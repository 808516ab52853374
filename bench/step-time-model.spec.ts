/**
 * The step-time model's arithmetic (bench/step-time-model.ts) against results worked out by hand,
 * each step of the working in the comments.
 */
import * as assert from 'node:assert/strict';
import {
  costForShare,
  defaultUnits,
  fitLocalModel,
  MeasuredCosts,
  pipelineMs,
  predictLocalPeriod,
  predictServiceStep,
  ServiceDeployment,
  stragglerMs,
} from './step-time-model';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual}, expected ${expected}`);

const COSTS: MeasuredCosts = {
  workerPerShardMs: 1,
  workerPerMbMs: 0.5,
  queueRedisPerShardMs: 0.25,
  servicePerMessageMs: 0.1,
  servicePerMbMs: 0.2,
  serviceUpdatePerMbMs: 1,
  coordinatorPerStepMs: 2,
  coordinatorPerReportMs: 0.5,
  redisPerMbMs: 1,
  shardSpreadMs: 0,
};

// 16 workers on 2 machines (so 2 services), an 8 MB model in 4 units, 8 Gbit/s: 1 ms per MB.
const DEPLOYMENT: ServiceDeployment = {
  shards: 16,
  workersPerMachine: 8,
  cpuOnlyMachines: 0,
  mb: 8,
  computeMs: 10,
  linkGbps: 8,
  units: 4,
  sumOnMachine: false,
  standingShards: false,
  serviceThreads: 1,
  durableEverySteps: 1,
  redisMasters: 1,
};

describe('step-time model', () => {
  it('expects the slowest of K shards σ·√(2 ln K) above the mean', () => {
    close(stragglerMs(1, 3), 0, 'one shard'); // ln 1 = 0
    close(stragglerMs(8, 1), 2.039334, 'K = 8'); // √(2 · 2.0794415) = √4.158883
    close(stragglerMs(8, 2), 4.078668, 'twice the spread');
  });

  it('pipelines units through stages: the first unit through all, then one per slowest stage', () => {
    close(pipelineMs([2, 4, 2], 1), 8, 'one unit'); // 2 + 4 + 2
    close(pipelineMs([2, 4, 2], 2), 6, 'two units'); // 8 / 2 + (1/2) · 4
    close(pipelineMs([2, 4, 2], 4), 5, 'four units'); // 8 / 4 + (3/4) · 4
  });

  it('cuts units of at most 4 MB and at least 2 per service', () => {
    assert.equal(defaultUnits(1.09, 1), 2); // max(⌈0.27⌉, 2)
    assert.equal(defaultUnits(102.5, 4), 26); // max(⌈25.6⌉, 8)
    assert.equal(defaultUnits(102.5, 16), 32); // max(26, 32)
  });

  it('adds the critical path of every worker pushing to every service', () => {
    const p = predictServiceStep(COSTS, DEPLOYMENT);
    // 2 services own 2 units of 2 MB each: 4 MB. 16 senders, 8 on the service's own machine.
    // push: max(a machine's 8 workers × (8 − 4) MB, 8 remote senders × 4 MB) = 32 MB = 32 ms; pull alike.
    close(p.terms.push, 32, 'push');
    close(p.terms.pull, 32, 'pull');
    // incast: 2 (in and out) × 16 senders × 2 units × 0.1 ms = 6.4 ms.
    close(p.terms.incast, 6.4, 'incast');
    // service: 6.4 + 2 × 16 × 4 MB × 0.2 ms (25.6) + 4 MB × 1 ms of update = 36 ms.
    close(p.terms.serviceCpu, 36, 'service CPU');
    close(p.terms.workerCpu, 9, 'worker CPU'); // 1 + 2 × 8 MB × 0.5
    close(p.terms.queueRedis, 4, 'queue'); // 16 × 0.25
    close(p.terms.coordinator, 3, 'coordinator'); // 2 + 2 reports × 0.5
    close(p.terms.nic, 72, 'NIC'); // 32 + 32 + 2 × 4 MB of durability writes
    close(p.terms.durability, 16, 'durability'); // 2 × 8 MB × 1 ms
    // 10 + 0 + 9 + 4 + pipeline([32, 36, 32], 2) = 100 / 2 + 36 / 2 = 68, + 3 = 94.
    close(p.criticalPathMs, 94, 'critical path');
    assert.equal(p.bound, 'critical path');
    close(p.periodMs, 94, 'period');
    close(p.computeShare, 10 / 94, 'compute share');
    assert.equal(p.services, 2);
    close(p.unevenness, 1, 'even units');
  });

  it('sums on each machine before the network: one sender per machine', () => {
    const p = predictServiceStep(COSTS, { ...DEPLOYMENT, sumOnMachine: true });
    // 2 senders (machines), 1 of them local: push max(1 × 4 MB, 1 × 4 MB) = 4 ms.
    close(p.terms.push, 4, 'push');
    close(p.terms.nic, 16, 'NIC'); // 4 + 4 + 8
    // incast 2 × 2 × 2 × 0.1 = 0.8; local (8 workers + 1 pull) × 4 units × 0.1 = 3.6;
    // (9 × 8 MB + 2 × 2 × 4 MB) × 0.2 = 88 × 0.2 = 17.6; update 4: 26 ms.
    close(p.terms.serviceCpu, 26, 'service CPU');
    // 10 + 9 + 4 + pipeline([4, 26, 4], 2) = 17 + 13 = 30, + 3 = 56.
    close(p.periodMs, 56, 'period');
  });

  it('is bound by the NIC when its traffic per step outlasts the critical path', () => {
    const p = predictServiceStep(COSTS, { ...DEPLOYMENT, linkGbps: 0.8 }); // 10 ms per MB
    // push = pull = 320; critical 10 + 9 + 4 + (676 / 2 + 320 / 2 = 498) + 3 = 524; NIC 72 × 10 = 720.
    close(p.criticalPathMs, 524, 'critical path');
    assert.equal(p.bound, 'nic');
    close(p.periodMs, 720, 'period');
  });

  it('charges the busiest service for uneven units', () => {
    const p = predictServiceStep(COSTS, { ...DEPLOYMENT, units: 3 });
    // 3 units on 2 services: one owns 2 of 8/3 MB = 16/3 MB, against a mean of 1.5 units.
    close(p.unevenness, 4 / 3, 'unevenness');
    // push: max(8 × (8 − 4), 8 × 16/3 = 42.667) MB.
    close(p.terms.push, 128 / 3, 'push');
  });

  it('finds the most a cost may be for a compute share, or says none will do', () => {
    // Critical path 86 + 16 × workerPerMbMs: period 90 (share 1/9) needs it ≤ 0.25.
    const ceiling = costForShare(COSTS, DEPLOYMENT, 'workerPerMbMs', 10 / 90);
    assert.ok(ceiling !== null && Math.abs(ceiling - 0.25) < 1e-9, String(ceiling));
    // Period 80 would need 86 + 16 × w ≤ 80: not even w = 0.
    assert.equal(costForShare(COSTS, DEPLOYMENT, 'workerPerMbMs', 10 / 80), null);
  });

  it('fits K = 1 and 2 and predicts the period at K on a machine of C cores', () => {
    const one = { shards: 1, computeMs: 10, periodMs: 20, workerCpuMs: 4, serialCpuMs: { redis: 3 } };
    const two = { shards: 2, computeMs: 10, periodMs: 26, workerCpuMs: 8, serialCpuMs: { redis: 4 } };
    const model = fitLocalModel(one, two, 2, 0);
    // CPU lines: workers 0 + 4K, Redis 2 + K. Beyond compute and serial CPU: 20 − 10 − 3 = 7 at
    // workers' CPU per core 4 / 2 = 2; 26 − 10 − 4 = 12 at 8 / 2 = 4: contention 5 / 2 = 2.5, wait 7 − 5 = 2.
    assert.deepEqual(model.workerCpu, { fixedMs: 0, perShardMs: 4 });
    assert.deepEqual(model.serialCpu, { redis: { fixedMs: 2, perShardMs: 1 } });
    close(model.contention, 2.5, 'contention');
    close(model.waitMs, 2, 'wait');
    // K = 4: 10 + 2 + Redis 6 + 2.5 × 16 / 2 = 38; the cores' bound 10 + 6 / 2 + 8 = 21.
    assert.deepEqual(predictLocalPeriod(model, 4, 10), { periodMs: 38, bound: 'critical path' });
    // On 16 cores: 10 + 2 + 6 + 2.5 × 16 / 16 = 20.5.
    assert.deepEqual(predictLocalPeriod({ ...model, cores: 16 }, 4, 10), {
      periodMs: 20.5,
      bound: 'critical path',
    });
    // With less contention (K = 2 at 22.5: 8.5 = wait + 4c, so c = 0.75 and wait 5.5) on 1 core at
    // K = 10: path 10 + 5.5 + 12 + 0.75 × 40 = 57.5; cores 10 + 12 + 40 = 62.
    const light = fitLocalModel(one, { ...two, periodMs: 22.5 }, 1, 0);
    assert.deepEqual(predictLocalPeriod(light, 10, 10), { periodMs: 62, bound: 'cores' });
    // A spread of 1 ms: K = 2 loses √(2 ln 2) = 1.177410, so contention 3.822590 / 2 = 1.911295 and
    // wait 7 − 3.822590 = 3.177410; K = 4: 10 + √(2 ln 4) (1.665109) + 3.177410 + 6 + 1.911295 × 8 = 36.132879.
    close(predictLocalPeriod(fitLocalModel(one, two, 2, 1), 4, 10).periodMs, 36.132879, 'with stragglers');
  });
});
