import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { layoutsOf, ModelWeights } from '@resnet/model';
import { architectureOf, ModelTensorCodec, roundSteps } from '@resnet/job';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import {
  CoordinatorStoppingError,
  JobCancelledError,
  JobPausedError,
  JobPreemptedError,
  RedisDataLostError,
} from '../errors/training.errors';
import { evalDue } from '../plan/training-plan';
import { JobRepository } from '../repositories/job.repository';
import { REDIS } from '../repositories/redis.providers';
import { ShardShares } from '../repositories/shard-shares';
import { admissions, queueOrder } from './job-queue';
import { StepRunner } from './step-runner';
import { StepWorkspace } from './step-workspace';

/**
 * The lifecycle of every active job's training loop: start, cancel, pause and resume it; run its
 * steps one after another (StepRunner), evaluate and checkpoint when due; and bring back jobs left
 * running by a previous coordinator, or lost with Redis's data, from their last commit or checkpoint.
 * Queued jobs start as slots free up (maxConcurrentJobs), in queue order (job-queue.ts); a queued
 * job of higher priority stops a running one at its next step boundary, back to the queue.
 */
@Injectable()
export class TrainingService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingService.name);
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
    private readonly checkpoints: CheckpointService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly shares: ShardShares,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const id of await this.checkpoints.restoreLost())
      this.logger.warn(`job ${id} was gone from Redis: restored from its last checkpoint`);
    // After a reconnect, a Redis that restarted without its data has lost the running jobs.
    this.redis.on('ready', () => void this.checkForLostJobs());
    for (const job of await this.jobs.list()) {
      if (job.state.status === 'running') {
        this.logger.log(`resuming job ${job.state.id} at step ${job.state.step}`);
        this.start(job.state.id);
      }
    }
    await this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true; // jobs stopped for the shutdown must not hand their slots to queued ones
    const runs = [...this.runs.values()];
    for (const run of runs)
      run.controller.abort(new CoordinatorStoppingError('coordinator is shutting down'));
    await Promise.all(runs.map((r) => r.done));
  }

  start(jobId: string): void {
    if (this.runs.has(jobId)) return;
    const controller = new AbortController();
    const done = this.train(jobId, controller.signal)
      .catch((err: Error) => this.ended(jobId, err))
      .finally(() => {
        this.runs.delete(jobId);
        this.preempting.delete(jobId);
        this.shares.leave(jobId);
        void this.schedule();
      });
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
    if (this.stopping) return;
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
      await this.jobs.setStatus(id, 'running');
      this.start(id);
    }
  }

  async cancel(jobId: string): Promise<void> {
    await this.stop(jobId, new JobCancelledError(`job ${jobId} was cancelled`), 'cancelled');
  }

  /** Stops the loop like cancel, keeping the last committed step so that resume continues from it. */
  async pause(jobId: string): Promise<void> {
    await this.stop(jobId, new JobPausedError(`job ${jobId} was paused`), 'paused');
  }

  private async stop(jobId: string, reason: Error, status: 'cancelled' | 'paused'): Promise<void> {
    const run = this.runs.get(jobId);
    run?.controller.abort(reason);
    await run?.done;
    // Only once the loop has stopped: a loop still starting up would overwrite it with 'running'.
    await this.jobs.setStatus(jobId, status);
  }

  /** Puts a paused (or restored) job back in the queue, which starts it at once when a slot is free. */
  async resume(jobId: string): Promise<void> {
    await this.runs.get(jobId)?.done; // a pause still unwinding would make start() a no-op
    await this.jobs.setStatus(jobId, 'queued');
    await this.schedule();
  }

  private async checkForLostJobs(): Promise<void> {
    for (const [jobId, run] of this.runs) {
      if (!(await this.jobs.get(jobId)))
        run.controller.abort(new RedisDataLostError(`job ${jobId} is gone from Redis`));
    }
  }

  private async ended(jobId: string, err: Error): Promise<void> {
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
      await this.jobs.setStatus(jobId, 'queued');
      return;
    }
    if (
      err instanceof JobCancelledError ||
      err instanceof JobPausedError ||
      err instanceof CoordinatorStoppingError
    )
      return;
    this.logger.error(`job ${jobId} failed: ${err.message}`);
    await this.jobs.setStatus(jobId, 'failed', err.message);
  }

  private async train(jobId: string, signal: AbortSignal): Promise<void> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new Error(`job ${jobId} not found`);
    const { spec } = job;
    this.shares.join(jobId, job.state.weight);
    const layouts = layoutsOf(architectureOf(spec));
    let weights: ModelWeights = ModelTensorCodec.decode(
      layouts,
      await this.jobs.weights(jobId, job.state.step),
    );
    let velocity = await this.jobs.velocity(jobId);
    await this.jobs.setStatus(jobId, 'running');
    const workspace = new StepWorkspace(layouts, spec.shardsPerStep);
    for (let step = job.state.step; step < spec.totalSteps;) {
      signal.throwIfAborted();
      if (this.preempting.has(jobId))
        throw new JobPreemptedError(`job ${jobId} yields to a job of higher priority at step ${step}`);
      const next = await this.steps.run({ jobId, spec, layouts, step, weights, velocity, workspace, signal });
      const stepsDone = step + roundSteps(spec, step);
      weights = next;
      velocity = next.velocity;
      if (evalDue(spec, step, stepsDone))
        await this.steps.evaluate({ jobId, spec, version: stepsDone, signal });
      if (this.checkpoints.due(spec, step, stepsDone)) {
        await this.checkpoints.save(jobId, spec, stepsDone, next, next.encoded, next.velocity);
      }
      step = stepsDone;
    }
    await this.jobs.setStatus(jobId, 'completed');
    this.logger.log(`job ${jobId} completed after ${spec.totalSteps} steps`);
  }
}
