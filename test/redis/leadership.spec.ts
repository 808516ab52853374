import * as assert from 'node:assert/strict';
import * as FakeTimers from '@sinonjs/fake-timers';
import { EvalMetrics } from '@resnet/protocol';
import { CheckpointService } from '../../apps/coordinator/src/checkpoints/checkpoint.service';
import { CoordinatorConfig } from '../../apps/coordinator/src/coordinator.config';
import {
  LeadershipListener,
  LeadershipService,
} from '../../apps/coordinator/src/leadership/leadership.service';
import { LeaderLeaseRepository } from '../../apps/coordinator/src/repositories/leader-lease.repository';
import { ShardShares } from '../../apps/coordinator/src/training/dispatch/shard-shares';
import { StepWorkspaceFactory } from '../../apps/coordinator/src/training/aggregation/step-workspace.factory';
import { ServicesStepRunner } from '../../apps/coordinator/src/training/services-step-runner';
import { SummationServicesRepository } from '../../apps/coordinator/src/repositories/summation-services.repository';
import { StepRunner, StepRunOptions } from '../../apps/coordinator/src/training/step-runner';
import { TrainingService } from '../../apps/coordinator/src/training/training.service';
import { quietNestLogs } from '../../apps/coordinator/test/fixtures';
import { testSpec } from '../support/test-job-spec';
import { StoredJob } from './stored-job';

const LEASE_MS = 30_000;

/** The real lease repository, counting renewals. */
class CountedLease extends LeaderLeaseRepository {
  renewals = 0;
  override async renew(coordinatorId: string, token: number, leaseMs: number): Promise<boolean> {
    this.renewals++;
    return super.renew(coordinatorId, token, leaseMs);
  }
}

/** Resolves once `done()` holds, polling on real timers (only setInterval is faked); at most 2000 polls. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `${what} did not happen`);
}

/**
 * LeadershipService on a real lease in a private redis-server, its setInterval faked: the renewals
 * happen when the clock says, not when the machine gets round to them.
 */
describe('LeadershipService (fake timers, real lease)', function () {
  let stored: StoredJob;
  let clock: ReturnType<typeof FakeTimers.install>;
  let lease: CountedLease;
  let leadership: LeadershipService;
  const config = {
    maxConcurrentJobs: 1,
    leadership: { coordinatorId: 'a', leaseMs: LEASE_MS },
  } as CoordinatorConfig;

  quietNestLogs();
  before(async () => {
    stored = await StoredJob.start(testSpec({ totalSteps: 1 }));
  });
  after(async () => stored?.stop());
  beforeEach(async () => {
    await stored.reset(0);
    clock = FakeTimers.install({ toFake: ['setInterval', 'clearInterval'] });
    lease = new CountedLease(stored.redis, stored.keys);
    leadership = new LeadershipService(lease, config);
  });
  afterEach(async () => {
    await leadership.beforeApplicationShutdown();
    clock.uninstall();
  });

  it('renews the lease every third of its length, and only then', async () => {
    const heard: string[] = [];
    const listener: LeadershipListener = {
      elected: async (fence) => void heard.push(`elected ${fence}`),
      leading: async (fence) => void heard.push(`leading ${fence}`),
      deposed: async (reason) => void heard.push(`deposed: ${reason}`),
    };
    leadership.follow(listener);
    await leadership.onApplicationBootstrap();
    assert.deepEqual(heard, ['elected 1']);
    // Shorten what is left of the lease, to see the renewal extend it in Redis.
    await stored.redis.pexpire(stored.keys.leaderLease(), 1000);

    await clock.tickAsync(LEASE_MS / 3 - 1);
    assert.equal(lease.renewals, 0);
    await clock.tickAsync(1);
    await until(() => heard.length === 2, 'the first renewal');
    assert.deepEqual(heard, ['elected 1', 'leading 1']);
    assert.ok(
      (await stored.redis.pttl(stored.keys.leaderLease())) > LEASE_MS - 5000,
      'the lease was extended',
    );

    await clock.tickAsync(LEASE_MS / 3);
    await until(() => heard.length === 3, 'the second renewal');
    assert.equal(lease.renewals, 2);
    assert.equal(leadership.token, 1);
  });

  it('steps down when a training write is refused, before any renewal could tell it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let stepStarted = false;
    // A step that computes nothing and waits for the test: meanwhile another coordinator takes over.
    const steps = {
      run: async (o: StepRunOptions) => {
        stepStarted = true;
        await held;
        return o.workspace.memory;
      },
      evaluate: async (): Promise<EvalMetrics> => assert.fail('no evaluation is due'),
    } as unknown as StepRunner;
    const checkpoints = { due: () => false, restoreLost: async () => [] } as unknown as CheckpointService;
    new TrainingService(
      config,
      stored.jobs,
      steps,
      new StepWorkspaceFactory(stored.blobs, stored.keys, config),
      checkpoints,
      leadership,
      stored.redis,
      new ShardShares(),
      // Jobs on summation services are not under test here.
      {} as ServicesStepRunner,
      {} as SummationServicesRepository,
    );
    await leadership.onApplicationBootstrap();
    assert.equal(leadership.token, 1);
    await until(() => stepStarted, "job j's first step");

    // This coordinator's lease runs out while it is busy (frozen, or cut off), and b takes the lead.
    await stored.redis.del(stored.keys.leaderLease());
    assert.deepEqual(await new LeaderLeaseRepository(stored.redis, stored.keys).acquire('b', LEASE_MS), {
      token: 2,
    });
    release(); // the step ends; the loop's next write, the job's completion, carries token 1

    await until(() => leadership.token === null, 'the step-down');
    assert.equal(lease.renewals, 0, 'no renewal ran: the refused write alone deposed it');
    assert.deepEqual(leadership.view(), { coordinator: 'a', leader: null, leading: false });
    const job = await stored.jobs.get('j');
    assert.equal(job?.state.status, 'running', "the job is left running, b's to resume");
  });
});
