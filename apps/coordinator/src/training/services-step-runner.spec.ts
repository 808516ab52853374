import * as assert from 'node:assert/strict';
import { ShardOutcome, StepReport } from '@resnet/protocol';
import { quietNestLogs } from '../../test/fixtures';
import { testSpec } from '../../../../test/support/test-job-spec';
import { FakeJobRepository } from '../../test/repositories/job.repository.mock';
import { FakeSummationServices } from '../../test/repositories/summation-services.repository.mock';
import { TrainingDivergedError } from '../errors/shard.errors';
import { MetricsService } from '../metrics/metrics.service';
import { UnitRecord } from '../repositories/job.repository';
import { ShardDispatcher } from './dispatch/shard-dispatcher';
import { ShardRunOptions } from './dispatch/shard-dispatcher.options';
import { ServicesStepRunner } from './services-step-runner';

const spec = testSpec({ aggregation: 'services', units: 2, partitions: 2 });
const RECORD: UnitRecord = {
  version: 0,
  units: [
    { unit: 0, epoch: 1, hash: 'h0' },
    { unit: 1, epoch: 1, hash: 'h1' },
  ],
};

function outcome(shard: number): ShardOutcome {
  return { workerId: `w${shard}`, lossSum: 1, correct: 1, count: 4, computeMs: 3 };
}

/** A report of one service for one unit, over both shards. */
function report(
  step: number,
  attempt: number,
  unit: number,
  epoch: number,
  hash: string,
  finite = true,
): StepReport {
  return {
    serviceId: `s${unit}`,
    step,
    attempt,
    finite,
    units: [{ unit, epoch, hash }],
    shards: [0, 1].map((shard) => ({ shard, lossSum: 1, count: 4, correct: 1, workerId: `w${shard}` })),
  };
}

/** Runs every task's shard at once; under `stallAttempt` it waits until the run is aborted, as when a service died. */
class ServicesDispatcher {
  readonly runs: ShardRunOptions[] = [];
  constructor(private readonly stallAttempt = -1) {}

  async run(o: ShardRunOptions): Promise<{ enqueueMs: number }> {
    this.runs.push(o);
    const first = o.tasks[0];
    if (first.kind === 'train' && first.attempt === this.stallAttempt)
      await new Promise((_, reject) => o.signal.addEventListener('abort', () => reject(o.signal.reason)));
    for (const task of o.tasks) await o.onOutcome(task, outcome(task.shard));
    return { enqueueMs: 0 };
  }

  as(): ShardDispatcher {
    return this as unknown as ShardDispatcher;
  }
}

function setUp(dispatcher = new ServicesDispatcher()) {
  const services = new FakeSummationServices();
  services.live = [0, 1].map((i) => ({
    id: `s${i}`,
    address: `h${i}:7400`,
    machine: 'm',
    pid: i,
    lastSeen: Date.now(),
  }));
  services.leasesNow = [
    { serviceId: 's0', epoch: 1 },
    { serviceId: 's1', epoch: 1 },
  ];
  const jobs = new FakeJobRepository();
  const metrics = { observeStep: () => undefined } as unknown as MetricsService;
  const runner = new ServicesStepRunner(jobs.as(), services.as(), dispatcher.as(), metrics);
  const options = (record = RECORD, attempt = 0) => ({
    jobId: 'j',
    spec,
    step: record.version,
    record,
    attempt,
    signal: new AbortController().signal,
    fence: 1,
  });
  return { services, jobs, runner, dispatcher, options };
}

describe('ServicesStepRunner', () => {
  quietNestLogs();

  it('routes each unit to its owner with the record’s hash, and commits the reports’ epochs and hashes', async () => {
    const { services, jobs, runner, dispatcher, options } = setUp();
    services.durableHashesOf.set(0, ['h0', 'h1']);
    services.reportsOf.set('0/0', [report(0, 0, 1, 1, 'n1'), report(0, 0, 0, 1, 'n0')]);
    const next = await runner.run(options());
    const task = dispatcher.runs[0].tasks[1];
    assert.ok(task.kind === 'train');
    assert.deepEqual(task.units, [
      { unit: 0, address: 'h0:7400', epoch: 1, hash: 'h0' },
      { unit: 1, address: 'h1:7400', epoch: 1, hash: 'h1' },
    ]);
    const units = [
      { unit: 0, epoch: 1, hash: 'n0' },
      { unit: 1, epoch: 1, hash: 'n1' },
    ];
    assert.deepEqual(next, { record: { version: 1, units }, attempt: 0 });
    assert.deepEqual(jobs.servicesCommits[0].units, units);
    assert.equal(jobs.servicesCommits[0].metrics.loss, 0.25);
    assert.deepEqual(jobs.announced, [{ jobId: 'j', version: 1, previous: 0 }]);
  });

  it('redoes the step under the next attempt when a unit’s owner is lost mid-step', async () => {
    const { services, jobs, runner, dispatcher, options } = setUp(new ServicesDispatcher(0));
    services.durableHashesOf.set(0, ['h0', 'h1']);
    // s1 dies: s0 takes unit 1 (epoch 2) from the durable version 0.
    setTimeout(() => (services.leasesNow = [services.leasesNow[0], { serviceId: 's0', epoch: 2 }]), 50);
    services.reportsOf.set('0/1', [
      {
        ...report(0, 1, 0, 1, 'n0'),
        units: [
          { unit: 0, epoch: 1, hash: 'n0' },
          { unit: 1, epoch: 2, hash: 'n1' },
        ],
      },
    ]);
    const next = await runner.run(options());
    assert.deepEqual(jobs.redos, [{ from: 0, attempt: 1 }]);
    assert.equal(dispatcher.runs.length, 2);
    const redone = dispatcher.runs[1].tasks[0];
    assert.ok(redone.kind === 'train' && redone.attempt === 1);
    assert.deepEqual(redone.units?.[1], { unit: 1, address: 'h0:7400', epoch: 2, hash: 'h1' });
    assert.equal(next.attempt, 1);
    assert.deepEqual(
      next.record.units.map((u) => u.epoch),
      [1, 2],
    );
  });

  it('rolls back one step when a unit changed owner and its new owner is a version behind', async () => {
    const { services, jobs, runner, dispatcher, options } = setUp();
    services.leasesNow = [services.leasesNow[0], { serviceId: 's0', epoch: 2 }];
    services.durableHashesOf.set(2, ['d0', 'd1']); // version 3 is not durable everywhere
    const record: UnitRecord = { version: 3, units: RECORD.units };
    const back = {
      version: 2,
      units: [
        { unit: 0, epoch: 0, hash: 'd0' },
        { unit: 1, epoch: 0, hash: 'd1' },
      ],
    };
    assert.deepEqual(await runner.run(options(record, 4)), { record: back, attempt: 5 });
    assert.deepEqual(jobs.redos, [{ from: 3, attempt: 5, back }]);
    assert.equal(dispatcher.runs.length, 0);
  });

  it('stops the job when a service’s update made its units non-finite', async () => {
    const { services, runner, options } = setUp();
    services.durableHashesOf.set(0, ['h0', 'h1']);
    services.reportsOf.set('0/0', [report(0, 0, 0, 1, 'n0'), report(0, 0, 1, 1, 'n1', false)]);
    await assert.rejects(runner.run(options()), TrainingDivergedError);
  });
});
