import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { layoutsOf } from '@resnet/model';
import {
  architectureOf,
  PartitionedModelCodec,
  partitionedModel,
  roundSteps,
  TrainingJobSpec,
  usesServices,
} from '@resnet/job';
import { RedisClient } from '@resnet/redis-connections';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import {
  CoordinatorStoppingError,
  JobCancelledError,
  JobPausedError,
  JobPreemptedError,
  JobStoppedError,
  RedisDataLostError,
} from '../errors/training.errors';
import { JobNotFoundError } from '../errors/job.errors';
import { FencedOffError, LeadershipLostError } from '../errors/leadership.errors';
import { LeadershipListener, LeadershipService } from '../leadership/leadership.service';
import { checkpointDue, evalDue } from '../plan/training-plan';
import { JobRepository } from '../repositories/job.repository';
import { REDIS } from '../repositories/redis.providers';
import { ShardShares } from './dispatch/shard-shares';
import { StoredJob } from '../repositories/job.repository';
import { SummationServicesRepository } from '../repositories/summation-services.repository';
import { ServicesStepRunner } from './services-step-runner';
import { admissions, queueOrder } from './job-queue';
import { StepRunner } from './step-runner';
import { StepWorkspaceFactory } from './aggregation/step-workspace.factory';
import { runInJobLogContext } from '../logging/job-log-context';
import { logJobEvent } from './job-lifecycle';

/** A job as the lifecycle log lines name it. */
export interface JobName {
  readonly id: string;
  readonly name: string;
}

/**
 * The lifecycle of every active job's training loop: start, cancel, pause and resume it; run its
 * steps one after another (StepRunner), evaluate and checkpoint when due; and bring back jobs left
 * running by a previous coordinator, or lost with Redis's data, from their last commit or checkpoint.
 * Queued jobs start as slots free up (maxConcurrentJobs), in queue order (job-queue.ts); a queued
 * job of higher priority stops a running one at its next step boundary, back to the queue.
 * Only the leader (LeadershipService) runs loops; on a follower, start() leaves the job to the
 * leader, which picks up jobs submitted, paused or resumed through followers at each lease renewal.
 */
@Injectable()
export class TrainingService implements LeadershipListener, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingService.name);
  /** Where the loops run (see start()): created with the service, outside any request. */
  private readonly loopContext = new AsyncResource('TrainingLoop');
  private readonly runs = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Running jobs to stop at their next step boundary for a job of higher priority. */
  private readonly preempting = new Set<string>();
  /** Scheduling passes run one at a time, so that two never hand out the same slot. */
  private scheduling: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    private readonly jobs: JobRepository,
    private readonly steps: StepRunner,
    private readonly workspaces: StepWorkspaceFactory,
    private readonly checkpoints: CheckpointService,
    private readonly leadership: LeadershipService,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly shares: ShardShares,
    private readonly servicesSteps: ServicesStepRunner,
    private readonly services: SummationServicesRepository,
  ) {
    leadership.follow(this);
  }

  onApplicationBootstrap(): void {
    // After a reconnect, a Redis that restarted without its data has lost the running jobs.
    this.redis.on('ready', () => void this.checkForLostJobs());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true; // jobs stopped for the shutdown must not hand their slots to queued ones
    await this.stopAll(new CoordinatorStoppingError('coordinator is shutting down'));
  }

  async elected(): Promise<void> {
    for (const id of await this.checkpoints.restoreLost())
      this.logger.warn(`job ${id} was gone from Redis: restored from its last checkpoint`);
    await this.adoptJobs();
  }

  async leading(): Promise<void> {
    await this.adoptJobs();
  }

  async deposed(reason: string): Promise<void> {
    await this.stopAll(new LeadershipLostError(reason));
  }

  /**
   * Runs the jobs that a previous leader left running, stops those an operator paused or cancelled
   * through a follower, and starts queued jobs on free slots.
   */
  private async adoptJobs(): Promise<void> {
    for (const { state } of await this.jobs.list()) {
      const run = this.runs.get(state.id);
      if (!run && state.status === 'running') {
        this.logger.log(`resuming job ${state.id} at step ${state.step}`);
        this.start(state.id);
      } else if (run && state.status === 'paused') {
        run.controller.abort(new JobPausedError(`job ${state.id} was paused`));
      } else if (run && state.status === 'cancelled') {
        run.controller.abort(new JobCancelledError(`job ${state.id} was cancelled`));
      }
    }
    await this.schedule();
  }

  private async stopAll(reason: Error): Promise<void> {
    const runs = [...this.runs.values()];
    for (const run of runs) run.controller.abort(reason);
    await Promise.all(runs.map((r) => r.done));
  }

  /**
   * Starts the job's loop here if this coordinator leads; otherwise the leader will. The loop runs
   * in the async context of this service's construction, not the caller's: a loop started by a
   * POST /jobs outlives that request, and must not log under its id (nestjs-pino reads the request
   * from an AsyncLocalStorage, which every promise of the loop would otherwise inherit).
   */
  start(jobId: string): void {
    const fence = this.leadership.token;
    if (fence === null || this.runs.has(jobId)) return;
    const controller = new AbortController();
    // In the loop's own async context (not the request's that started it), logging as the job.
    const done = this.loopContext.runInAsyncScope(() =>
      runInJobLogContext(jobId, () => this.train(jobId, controller.signal, fence))
        .catch((err: Error) => this.ended(jobId, err, fence))
        .finally(() => {
          this.runs.delete(jobId);
          this.preempting.delete(jobId);
          this.shares.leave(jobId);
          void this.schedule();
        }),
    );
    this.runs.set(jobId, { controller, done });
  }

  /** Starts queued jobs on free slots and marks running jobs to preempt; resolves once done. */
  schedule(): Promise<void> {
    this.scheduling = this.scheduling
      .then(() => this.admit())
      .catch((err: Error) => this.logger.warn(`could not start queued jobs: ${err.message}`));
    return this.scheduling;
  }

  private async admit(): Promise<void> {
    // Only the leader admits jobs; a follower's submissions wait for the leader's next lease renewal.
    const fence = this.leadership.token;
    if (this.stopping || fence === null) return;
    const all = await this.jobs.list();
    const running = all
      .filter((job) => this.runs.has(job.state.id) && !this.preempting.has(job.state.id))
      .map((job) => job.state);
    const queue = queueOrder(all).map((job) => job.state);
    const { start, preempt } = admissions(queue, running, this.runs.size, this.config.maxConcurrentJobs);
    for (const id of preempt) {
      this.logger.log(`job ${id} will yield to a job of higher priority after its current step`);
      this.preempting.add(id);
    }
    for (const id of start) {
      // Set here rather than by the loop, so that the job reads as running as soon as it is admitted.
      if (await this.jobs.setTrainingStatus(fence, id, 'running')) this.start(id);
    }
  }

  async cancel(job: JobName): Promise<void> {
    await this.stop(job, new JobCancelledError(`job ${job.id} was cancelled`), 'cancelled');
  }

  /** Stops the loop like cancel, keeping the last committed step so that resume continues from it. */
  async pause(job: JobName): Promise<void> {
    await this.stop(job, new JobPausedError(`job ${job.id} was paused`), 'paused');
  }

  private async stop(job: JobName, reason: Error, status: 'cancelled' | 'paused'): Promise<void> {
    // First: the loop (here or on the leader) writes 'running' or its outcome only over 'running'.
    await this.jobs.setStatus(job.id, status);
    logJobEvent(this.logger, status, job);
    const run = this.runs.get(job.id);
    run?.controller.abort(reason);
    await run?.done;
  }

  /**
   * Puts a paused, failed (or restored) job back in the queue, which starts it at once when a slot
   * is free; `detail` says where it comes back from, when not from its own last step.
   */
  async resume(job: JobName, detail?: string): Promise<void> {
    await this.runs.get(job.id)?.done; // a pause still unwinding would make start() a no-op
    await this.jobs.setStatus(job.id, 'queued');
    logJobEvent(this.logger, 'resumed', job, detail);
    await this.schedule();
  }

  private async checkForLostJobs(): Promise<void> {
    for (const [jobId, run] of this.runs) {
      if (!(await this.jobs.get(jobId)))
        run.controller.abort(new RedisDataLostError(`job ${jobId} is gone from Redis`));
    }
  }

  private async ended(jobId: string, err: Error, fence: number): Promise<void> {
    if (err instanceof FencedOffError) {
      this.stepDown(err);
      return;
    }
    if (err instanceof RedisDataLostError) {
      const restored = await this.checkpoints.restoreLost();
      this.logger.warn(
        `${err.message}; restored ${restored.length ? restored.join(', ') : 'nothing'} from checkpoints`,
      );
      // The finally that removes this run has not happened yet: start once it has.
      if (restored.includes(jobId)) setImmediate(() => this.start(jobId));
      return;
    }
    if (err instanceof JobPreemptedError) {
      this.logger.log(err.message);
      await this.jobs.setTrainingStatus(fence, jobId, 'queued');
      return;
    }
    if (err instanceof JobStoppedError) return; // cancelled, paused, shutting down or deposed
    const job = await this.jobs.get(jobId);
    logJobEvent(this.logger, 'failed', { id: jobId, name: job?.spec.name ?? '?' }, err.message);
    try {
      await this.jobs.setTrainingStatus(fence, jobId, 'failed', err.message);
    } catch (writeErr) {
      if (!(writeErr instanceof FencedOffError)) throw writeErr;
      this.stepDown(writeErr);
    }
  }

  /**
   * Not awaited: stepping down waits for every loop to stop, this one included, which stops only
   * once this returns.
   */
  private stepDown(refused: FencedOffError): void {
    void this.leadership.stepDown(refused.message);
  }

  private async train(jobId: string, signal: AbortSignal, fence: number): Promise<void> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(`job ${jobId} is not in Redis`);
    const { spec } = job;
    this.shares.join(jobId, job.state.weight);
    if (usesServices(spec)) return this.trainOnServices(jobId, job, signal, fence);
    const layouts = layoutsOf(architectureOf(spec));
    const { partitions } = partitionedModel(spec, layouts);
    const weights = PartitionedModelCodec.decodeWeights(
      partitions,
      layouts,
      await this.jobs.weights(jobId, spec, job.state.step),
    );
    const velocity = PartitionedModelCodec.decodeVelocity(partitions, await this.jobs.velocity(jobId, spec));
    // Paused or cancelled in the meantime, through this coordinator or another.
    if (!(await this.jobs.setTrainingStatus(fence, jobId, 'running'))) return;
    logJobEvent(
      this.logger,
      'started',
      { id: jobId, name: spec.name },
      `at step ${job.state.step} of ${spec.totalSteps}`,
    );
    const workspace = this.workspaces.open(spec, weights, velocity);
    try {
      for (let step = job.state.step; step < spec.totalSteps;) {
        signal.throwIfAborted();
        if (this.preempting.has(jobId))
          throw new JobPreemptedError(`job ${jobId} yields to a job of higher priority at step ${step}`);
        const model = await this.steps.run({ jobId, spec, step, workspace, signal, fence });
        const stepsDone = step + roundSteps(spec, step);
        if (evalDue(spec, step, stepsDone))
          await this.steps.evaluate({ jobId, spec, version: stepsDone, signal, fence });
        if (checkpointDue(spec, step, stepsDone))
          await this.checkpoints.save(jobId, spec, stepsDone, model, model.velocity);
        step = stepsDone;
      }
    } finally {
      await workspace.close();
    }
    await this.completed(jobId, spec, fence);
  }

  private async completed(jobId: string, spec: TrainingJobSpec, fence: number): Promise<void> {
    if (!(await this.jobs.setTrainingStatus(fence, jobId, 'completed'))) return;
    logJobEvent(this.logger, 'completed', { id: jobId, name: spec.name }, `after ${spec.totalSteps} steps`);
  }

  /**
   * The loop of a job on summation services: the services hold the model; this loop routes and
   * commits each step, and reads the durable units only to evaluate, checkpoint and finish.
   */
  private async trainOnServices(
    jobId: string,
    job: StoredJob,
    signal: AbortSignal,
    fence: number,
  ): Promise<void> {
    const { spec } = job;
    if (!(await this.jobs.setTrainingStatus(fence, jobId, 'running'))) return;
    await this.services.serve(jobId, true);
    try {
      let position = await this.servicesSteps.positionAt(jobId, spec, job.state.step, signal);
      // A step normally moves the job one version on; after losing a service it may roll back one.
      for (let step = job.state.step; step < spec.totalSteps; step = position.record.version) {
        signal.throwIfAborted();
        if (this.preempting.has(jobId))
          throw new JobPreemptedError(`job ${jobId} yields to a job of higher priority at step ${step}`);
        position = await this.servicesSteps.run({ jobId, spec, step, ...position, signal, fence });
        if (position.record.version !== step + 1) continue;
        const evaluate = evalDue(spec, step, step + 1);
        const checkpoint = checkpointDue(spec, step, step + 1);
        if (evaluate || checkpoint || step + 1 === spec.totalSteps)
          await this.servicesSteps.untilDurable(jobId, spec, step + 1, signal);
        if (evaluate) await this.steps.evaluate({ jobId, spec, version: step + 1, signal, fence });
        if (checkpoint) {
          const layouts = layoutsOf(architectureOf(spec));
          const { partitions } = partitionedModel(spec, layouts);
          const weights = PartitionedModelCodec.decodeWeights(
            partitions,
            layouts,
            await this.jobs.weights(jobId, spec, step + 1),
          );
          const velocity = PartitionedModelCodec.decodeVelocity(
            partitions,
            await this.jobs.velocity(jobId, spec, step + 1),
          );
          await this.checkpoints.save(jobId, spec, step + 1, weights, velocity);
        }
      }
    } finally {
      await this.services.serve(jobId, false);
    }
    await this.completed(jobId, spec, fence);
  }
}
