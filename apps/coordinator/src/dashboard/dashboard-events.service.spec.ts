import * as assert from 'node:assert/strict';
import { MessageEvent } from '@nestjs/common';
import { Redis } from 'ioredis';
import { firstValueFrom, Observable, take, toArray } from 'rxjs';
import { StepMetrics, WorkerView } from '@resnet/protocol';
import { JobView } from '@resnet/job';
import { quietNestLogs } from '../../test/fixtures';
import { testSpec } from '../../../../test/support/test-job-spec';
import { FakeRedisConnection } from '../../test/repositories/redis-connection.mock';
import { JobsService } from '../jobs/jobs.service';
import { DatasetPreparations, DatasetPreparationView } from '../jobs/dataset-preparations';
import { StepMetricsReader } from '../repositories/step-metrics.reader';
import { WorkersService } from '../workers/workers.service';
import { DashboardEventsService, JobSummary } from './dashboard-events.service';

const spec = testSpec({ totalSteps: 10, stepsPerEpoch: 5 });
const job: JobView = {
  id: 'j',
  status: 'running',
  step: 4,
  priority: 0,
  weight: 1,
  createdAt: 1,
  updatedAt: 2,
  name: 'unit',
  totalSteps: 10,
  epoch: 0.8,
  progress: 0.4,
  spec,
};
const worker: WorkerView = {
  id: 'w1',
  host: 'h',
  pid: 1,
  backend: 'wasm',
  device: 'cpu',
  precisions: ['fp32'],
  imagesPerSecond: 50,
  currentShard: null,
  startedAt: 0,
  lastSeen: 0,
  alive: true,
  quarantined: false,
};

function stepAt(step: number, at: number, imagesPerSecond = 100): StepMetrics {
  return {
    step,
    epoch: step / 5,
    loss: 1 / step,
    accuracy: 0.5,
    lr: 0.1,
    imagesPerSecond,
    stepMs: 500,
    waitMs: 400,
    slowestShardMs: 300,
    at,
  };
}
// The last step slower than the others: the table shows the run's mean, not the last step's.
const STEPS = [1, 2, 3, 4].map((step) => stepAt(step, step * 1000, step === 4 ? 50 : 100));

function setUp() {
  const redis = new FakeRedisConnection();
  const jobs = { list: async () => [job] } as unknown as JobsService;
  const workers = { list: async () => [worker] } as unknown as WorkersService;
  const metrics = {
    lastSteps: async (_id: string, count: number) => STEPS.slice(-count),
    stepsSince: async (_id: string, steps: number) => STEPS.slice(steps),
    since: async (_id: string, steps: number, evals: number) => ({
      steps: STEPS.slice(steps),
      evals: [].slice(evals),
    }),
  } as unknown as StepMetricsReader;
  const preparations = new DatasetPreparations();
  const service = new DashboardEventsService(redis as unknown as Redis, jobs, workers, metrics, preparations);
  return { redis, service, preparations };
}

function events(stream: Observable<MessageEvent>, count: number): Promise<MessageEvent[]> {
  return firstValueFrom(stream.pipe(take(count), toArray()));
}

describe('DashboardEventsService', () => {
  quietNestLogs();

  it('sends each connection the jobs with their loss, speed and ETA, the workers, and no problem', async () => {
    const { service } = setUp();
    const [jobsEvent, workersEvent, problem] = await events(service.stream(), 3);
    assert.equal(jobsEvent.type, 'jobs');
    const [summary] = jobsEvent.data as JobSummary[];
    assert.equal(summary.loss, 0.25);
    // 0.5 s per step: 3 × 50 + 25 images in 2 s.
    assert.equal(summary.imagesPerSecond, 87.5);
    assert.equal(summary.epochs, 2);
    // 1 s per step over the last steps, 6 steps left.
    assert.equal(summary.etaSeconds, 6);
    assert.deepEqual(workersEvent, { type: 'workers', data: [worker] });
    assert.deepEqual(problem, { type: 'problem', data: { message: null } });
  });

  it('lists the datasets being prepared for submitted jobs, with their progress', async () => {
    const { service, preparations } = setUp();
    let finish!: () => void;
    const preparing = preparations.track('cifar.tar.gz', 'resnet20 on cifar.tar.gz', async (onProgress) => {
      onProgress({ split: 'train', phase: 'decoding', done: 30, total: 50 });
      onProgress({ split: 'test', phase: 'decoding', done: 10, total: 10 });
      await new Promise<void>((resolve) => (finish = resolve));
    });
    const event = (await events(service.stream(), 4)).find((e) => e.type === 'preparing');
    finish();
    await preparing;
    const [view] = event?.data as DatasetPreparationView[];
    assert.deepEqual(
      [view.dataset, view.jobName, view.phase],
      ['cifar.tar.gz', 'resnet20 on cifar.tar.gz', 'decoding'],
    );
    assert.deepEqual([view.done, view.total, view.fraction], [40, 60, 40 / 60]);
    assert.deepEqual(preparations.list(), []);
  });

  it("sends the followed job's metrics from the start, with reset set", async () => {
    const { service } = setUp();
    const all = await events(service.stream('j'), 5);
    const metrics = all.find((e) => e.type === 'metrics');
    assert.deepEqual(metrics?.data, { jobId: 'j', reset: true, steps: STEPS, evals: [] });
  });

  it('names the problem instead of sending snapshots while Redis is unreachable', async () => {
    const { redis, service } = setUp();
    redis.status = 'reconnecting';
    const [problem] = await events(service.stream(), 1);
    assert.equal(problem.type, 'problem');
    assert.match(
      (problem.data as { message: string }).message,
      /cannot read the cluster state: Redis connection is reconnecting/,
    );
  });
});
