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
  imagesPerSecond: 50,
  currentShard: null,
  startedAt: 0,
  lastSeen: 0,
  alive: true,
  quarantined: false,
};

function stepAt(step: number, at: number): StepMetrics {
  return {
    step,
    epoch: step / 5,
    loss: 1 / step,
    accuracy: 0.5,
    lr: 0.1,
    imagesPerSecond: 100,
    stepMs: 500,
    waitMs: 400,
    slowestShardMs: 300,
    at,
  };
}
const STEPS = [1, 2, 3, 4].map((step) => stepAt(step, step * 1000));

function setUp() {
  const redis = new FakeRedisConnection();
  const jobs = { list: async () => [job] } as unknown as JobsService;
  const workers = { list: async () => [worker] } as unknown as WorkersService;
  const metrics = {
    lastSteps: async (_id: string, count: number) => STEPS.slice(-count),
    since: async (_id: string, steps: number, evals: number) => ({
      steps: STEPS.slice(steps),
      evals: [].slice(evals),
    }),
  } as unknown as StepMetricsReader;
  const service = new DashboardEventsService(redis as unknown as Redis, jobs, workers, metrics);
  return { redis, service };
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
    assert.equal(summary.imagesPerSecond, 100);
    assert.equal(summary.epochs, 2);
    // 1 s per step over the last steps, 6 steps left.
    assert.equal(summary.etaSeconds, 6);
    assert.deepEqual(workersEvent, { type: 'workers', data: [worker] });
    assert.deepEqual(problem, { type: 'problem', data: { message: null } });
  });

  it("sends the followed job's metrics from the start, with reset set", async () => {
    const { service } = setUp();
    const all = await events(service.stream('j'), 4);
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
