import { AsyncLocalStorage } from 'node:async_hooks';
import * as assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { EvalMetrics } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { captureNestLogs, quietNestLogs } from '../../test/fixtures';
import { testSpec } from '../../../../test/support/test-job-spec';
import { FakeLeadership } from '../../test/leadership/leadership.service.mock';
import { FakeJobRepository } from '../../test/repositories/job.repository.mock';
import { FakeRedisConnection } from '../../test/repositories/redis-connection.mock';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { CoordinatorConfig } from '../coordinator.config';
import { ShardShares } from './dispatch/shard-shares';
import { TrainingDivergedError } from '../errors/shard.errors';
import { ModelMemory } from './aggregation/partition-aggregation';
import { StepWorkspaceFactory } from './aggregation/step-workspace.factory';
import { EvalRunOptions, StepRunner, StepRunOptions } from './step-runner';
import { ServicesStepRunner } from './services-step-runner';
import { SummationServicesRepository } from '../repositories/summation-services.repository';
import { TrainingService } from './training.service';

/** The fake repository, with a step counter that the fake steps move on. */
class JobsWithSteps extends FakeJobRepository {
  async setStep(id: string, step: number): Promise<void> {
    const job = this.jobs.get(id)!;
    job.state = { ...job.state, step };
    // The same weights under the new version, for a loop that restarts from it.
    this.versions.set(`${id}@${step}`, this.versions.get(`${id}@${step - 1}`)!);
  }
}

/** Commits each step without computing: the version moves on, the weights stay. */
class FakeStepRunner {
  readonly steps: number[] = [];
  /** `<job>:<step>` of every step, in the order they ran. */
  readonly ran: string[] = [];
  readonly evaluated: number[] = [];
  failAt: number | null = null;
  /** Resolves a step only when the test says so, to stop a job mid-run. */
  hold: Promise<void> | null = null;

  constructor(private readonly jobs: JobsWithSteps) {}

  /** Called as each step starts, in the step's async context. */
  onRun: () => void = () => undefined;

  async run(o: StepRunOptions): Promise<ModelMemory> {
    this.onRun();
    await this.hold;
    o.signal.throwIfAborted();
    if (o.step === this.failAt) throw new TrainingDivergedError(`training diverged at step ${o.step}`);
    this.steps.push(o.step);
    this.ran.push(`${o.jobId}:${o.step}`);
    await this.jobs.setStep(o.jobId, o.step + 1);
    return o.workspace.memory;
  }

  async evaluate(o: EvalRunOptions): Promise<EvalMetrics> {
    this.evaluated.push(o.version);
    return { step: o.version, epoch: 0, loss: 1, accuracy: 0.5, top5: 1, count: 16, at: 0 };
  }
}

/** The service under test leads (fencing token 1) unless `leading` is false. */
async function setUp(spec: TrainingJobSpec = testSpec(), { leading = true, maxConcurrentJobs = 1 } = {}) {
  const jobs = new JobsWithSteps();
  jobs.add('j', spec);
  const steps = new FakeStepRunner(jobs);
  const saved: number[] = [];
  const checkpoints = {
    save: async (_id: string, _spec: TrainingJobSpec, step: number) => void saved.push(step),
    restoreLost: async () => [],
  } as unknown as CheckpointService;
  const redis = new FakeRedisConnection();
  const leadership = new FakeLeadership();
  const service = new TrainingService(
    { maxConcurrentJobs } as CoordinatorConfig,
    jobs.as(),
    steps as unknown as StepRunner,
    new StepWorkspaceFactory(jobs.blobs(), jobs.keys, { maxConcurrentJobs } as CoordinatorConfig),
    checkpoints,
    leadership.as(),
    redis as unknown as Redis,
    new ShardShares(),
    // The loop of a job on summation services is not under test here.
    {} as ServicesStepRunner,
    {} as SummationServicesRepository,
  );
  // Elected with the job paused: the tests start it themselves.
  if (leading) leadership.token = jobs.leaderFence;
  return { jobs, steps, saved, service, leadership };
}

/** Holds every step the fake runs until the function it returns is called. */
function holdSteps(steps: FakeStepRunner): () => void {
  let release!: () => void;
  steps.hold = new Promise((resolve) => (release = resolve));
  return release;
}

/** The job every test sets up, as the lifecycle calls name it. */
const J = { id: 'j', name: 'test job' };

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), what);
}

describe('TrainingService', () => {
  quietNestLogs();

  it('runs a job to its last step, evaluating and checkpointing when due, then marks it completed', async () => {
    const { jobs, steps, saved, service } = await setUp(
      testSpec({ totalSteps: 4, stepsPerEpoch: 2, evalEvery: 1, checkpointEvery: 2 }),
    );
    service.start('j');
    await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
    assert.deepEqual(steps.steps, [0, 1, 2, 3]);
    assert.deepEqual(steps.evaluated, [2, 4]);
    assert.deepEqual(saved, [2, 4]);
  });

  it('marks a job failed with the reason when a step fails', async () => {
    const { jobs, steps, service } = await setUp();
    steps.failAt = 1;
    service.start('j');
    await until('the job failed', () => jobs.jobs.get('j')!.state.status === 'failed');
    assert.equal(jobs.jobs.get('j')!.state.error, 'training diverged at step 1');
  });

  it('pauses at the last committed step and resumes from it', async () => {
    const { jobs, steps, service } = await setUp();
    const release = holdSteps(steps);
    service.start('j');
    await until('the job is running', () => jobs.jobs.get('j')!.state.status === 'running');
    const paused = service.pause(J);
    release();
    await paused;
    assert.equal(jobs.jobs.get('j')!.state.status, 'paused');
    assert.deepEqual(steps.steps, []);
    steps.hold = null;
    await service.resume(J);
    await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
    assert.deepEqual(steps.steps, [0, 1, 2]);
  });

  it('resumes queued and running jobs when the coordinator is elected', async () => {
    const { jobs, steps, leadership } = await setUp(testSpec(), { leading: false });
    await leadership.elect(1);
    await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
    assert.deepEqual(steps.steps, [0, 1, 2]);
  });

  it('starts queued jobs one at a time, highest priority first and FIFO within a priority', async () => {
    const { jobs, steps, service } = await setUp(testSpec({ totalSteps: 2 }));
    jobs.add('low-first', testSpec({ totalSteps: 2 }), 'queued', 0);
    jobs.add('high', testSpec({ totalSteps: 2 }), 'queued', 2);
    jobs.add('mid', testSpec({ totalSteps: 2 }), 'queued', 1);
    await service.schedule();
    const all = ['j', 'low-first', 'high', 'mid'];
    await until('every job completed', () =>
      all.every((id) => jobs.jobs.get(id)!.state.status === 'completed'),
    );
    // 'j' was added first, at priority 0 too.
    assert.deepEqual(steps.ran, [
      'high:0',
      'high:1',
      'mid:0',
      'mid:1',
      'j:0',
      'j:1',
      'low-first:0',
      'low-first:1',
    ]);
  });

  it('runs up to maxConcurrentJobs jobs at once', async () => {
    const { jobs, steps, service } = await setUp(testSpec(), { maxConcurrentJobs: 2 });
    jobs.add('k', testSpec());
    jobs.add('l', testSpec());
    const release = holdSteps(steps);
    await service.schedule();
    const statuses = () => ['j', 'k', 'l'].map((id) => jobs.jobs.get(id)!.state.status);
    assert.deepEqual(statuses(), ['running', 'running', 'queued']);
    release();
    await until('every job completed', () => statuses().every((s) => s === 'completed'));
  });

  it('preempts a job of lower priority at its next step boundary and resumes it after', async () => {
    const { jobs, steps, service } = await setUp();
    const release = holdSteps(steps);
    await service.schedule();
    await until('j computes step 0', () => jobs.jobs.get('j')!.state.status === 'running');
    jobs.add('urgent', testSpec(), 'queued', 5);
    await service.schedule();
    assert.equal(jobs.jobs.get('urgent')!.state.status, 'queued'); // no slot until j's step ends
    steps.hold = null;
    release();
    await until('both completed', () =>
      ['j', 'urgent'].every((id) => jobs.jobs.get(id)!.state.status === 'completed'),
    );
    assert.deepEqual(steps.ran, ['j:0', 'urgent:0', 'urgent:1', 'urgent:2', 'j:1', 'j:2']);
  });

  it('starts no loop while it follows: the leader picks the job up', async () => {
    const { jobs, steps, service } = await setUp(testSpec(), { leading: false });
    service.start('j');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(jobs.jobs.get('j')!.state.status, 'queued');
    assert.deepEqual(steps.steps, []);
  });

  it('runs a loop started inside a request outside its async context, so its logs carry no request', async () => {
    const { jobs, steps, service } = await setUp();
    const request = new AsyncLocalStorage<{ req: string }>();
    let seenByStep: unknown = 'not run';
    steps.onRun = () => (seenByStep = request.getStore());
    request.run({ req: 'POST /jobs' }, () => service.start('j'));
    await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
    assert.equal(seenByStep, undefined);
  });

  it('steps down when a write is refused, leaving the job running for the new leader', async () => {
    const { jobs, steps, service, leadership } = await setUp();
    const release = holdSteps(steps);
    service.start('j');
    await until('the job is running', () => jobs.jobs.get('j')!.state.status === 'running');
    jobs.leaderFence = 2; // another coordinator took the lease while this one was frozen
    await jobs.setStep('j', 1); // and committed the step this one is computing
    release();
    await until('it stepped down', () => leadership.stepDowns.length === 1);
    await service.onModuleDestroy(); // every loop has stopped: none waits on the step-down
    assert.equal(leadership.token, null);
    assert.equal(jobs.jobs.get('j')!.state.status, 'running');
    assert.equal(jobs.jobs.get('j')!.state.error, undefined);
  });

  it('stops the loop of a job paused through a follower at the next renewal', async () => {
    const { jobs, steps, service, leadership } = await setUp();
    const release = holdSteps(steps);
    service.start('j');
    await until('the job is running', () => jobs.jobs.get('j')!.state.status === 'running');
    await jobs.setStatus('j', 'paused');
    await leadership.renew();
    release();
    await service.onModuleDestroy();
    assert.equal(jobs.jobs.get('j')!.state.status, 'paused');
    assert.deepEqual(steps.steps, []);
  });

  it('resumes a failed job from its last commit', async () => {
    const { jobs, steps, service } = await setUp();
    steps.failAt = 0; // the fake runner commits no weights: resume from step 0's
    service.start('j');
    await until('the job failed', () => jobs.jobs.get('j')!.state.status === 'failed');
    steps.failAt = null;
    await service.resume(J);
    await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
    assert.deepEqual(steps.steps, [0, 1, 2]);
    assert.equal(jobs.jobs.get('j')!.state.error, undefined);
  });

  it('cancels a job for good', async () => {
    const { jobs, steps, service } = await setUp();
    const release = holdSteps(steps);
    service.start('j');
    const cancelled = service.cancel(J);
    release();
    await cancelled;
    assert.equal(jobs.jobs.get('j')!.state.status, 'cancelled');
    await service.onModuleDestroy();
  });

  it('logs one line per lifecycle event, with the job id and name', async () => {
    const { jobs, steps, service } = await setUp(testSpec({ name: 'test job' }));
    const lines = captureNestLogs();
    try {
      let release!: () => void;
      steps.hold = new Promise((resolve) => (release = resolve));
      service.start('j');
      await until('the job is running', () => jobs.jobs.get('j')!.state.status === 'running');
      const paused = service.pause(J);
      release();
      await paused;
      steps.hold = null;
      steps.failAt = 1;
      await service.resume(J);
      await until('the job failed', () => jobs.jobs.get('j')!.state.status === 'failed');
      steps.failAt = null;
      await service.resume(J);
      await until('the job completed', () => jobs.jobs.get('j')!.state.status === 'completed');
      jobs.add('third', testSpec({ name: 'third job' }), 'paused');
      await service.cancel({ id: 'third', name: 'third job' });
    } finally {
      await service.onModuleDestroy();
      Logger.overrideLogger(false);
    }
    assert.deepEqual(
      lines.map((l) => `${l.level} ${l.job} ${l.event}`),
      [
        'log j started',
        'log j paused',
        'log j resumed',
        'log j started',
        'error j failed',
        'log j resumed',
        'log j started',
        'log j completed',
        'log third cancelled',
      ],
    );
    // Where the job resumed after the pause depends on whether step 0 committed first.
    assert.deepEqual(
      [0, 1, 4, 6, 7, 8].map((i) => lines[i].msg),
      [
        'job j (test job) started: at step 0 of 3',
        'job j (test job) paused',
        'job j (test job) failed: training diverged at step 1',
        'job j (test job) started: at step 1 of 3',
        'job j (test job) completed: after 3 steps',
        'job third (third job) cancelled',
      ],
    );
  });
});
