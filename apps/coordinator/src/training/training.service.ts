import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { architectureFor, layoutsOf, ModelLayouts, ModelWeights } from '@resnet/model';
import { applyRoundInPlace, applyStepInPlace, lrAt } from '@resnet/optimizer';
import {
  ModelTensorCodec,
  previousVersion,
  roundSteps,
  scheduleOf,
  shardMessageKind,
  StepMetrics,
  TrainingJobSpec,
  usesLocalSgd,
} from '@resnet/protocol';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';
import {
  CoordinatorStoppingError,
  JobCancelledError,
  JobPausedError,
  RedisDataLostError,
} from '../errors/training.errors';
import { MetricsService } from '../metrics/metrics.service';
import { evalDue, evalTasks, trainTasks } from '../plan/training-plan';
import { JobRepository } from '../repositories/job.repository';
import { REDIS } from '../repositories/redis.providers';
import { ShardDispatcher } from '../repositories/shard-dispatcher';
import { WorkersService } from '../workers/workers.service';
import { validatedContribution } from './shard-result.validator';
import { StepWorkspace } from './step-workspace';

/**
 * Runs every active job's synchronous SGD loop: enqueue a step's shards, fold their gradients as
 * they arrive, apply the optimizer under the job's schedule, commit the next weights version, and
 * evaluate when due. With local SGD, a step of this loop is a round of several global steps whose
 * shards send weight changes, which are averaged instead. Jobs left running by a previous
 * coordinator resume from their last commit.
 */
@Injectable()
export class TrainingService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingService.name);
  private readonly runs = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(
    private readonly jobs: JobRepository,
    private readonly dispatcher: ShardDispatcher,
    private readonly workers: WorkersService,
    private readonly metrics: MetricsService,
    private readonly checkpoints: CheckpointService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const id of await this.checkpoints.restoreLost())
      this.logger.warn(`job ${id} was gone from Redis: restored from its last checkpoint`);
    // After a reconnect, a Redis that restarted without its data has lost the running jobs.
    this.redis.on('ready', () => void this.checkForLostJobs());
    for (const job of await this.jobs.list()) {
      if (job.state.status === 'running' || job.state.status === 'queued') {
        this.logger.log(`resuming job ${job.state.id} at step ${job.state.step}`);
        this.start(job.state.id);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
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
      .finally(() => this.runs.delete(jobId));
    this.runs.set(jobId, { controller, done });
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

  async resume(jobId: string): Promise<void> {
    await this.runs.get(jobId)?.done; // a pause still unwinding would make start() a no-op
    await this.jobs.setStatus(jobId, 'running');
    this.start(jobId);
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
    const layouts = layoutsOf(
      architectureFor(spec.model, { numClasses: spec.numClasses, shortcut: spec.shortcut }),
    );
    let weights: ModelWeights = ModelTensorCodec.decode(
      layouts,
      await this.jobs.weights(jobId, job.state.step),
    );
    let velocity = await this.jobs.velocity(jobId);
    await this.jobs.setStatus(jobId, 'running');
    const workspace = new StepWorkspace(layouts, spec.shardsPerStep);
    for (let step = job.state.step; step < spec.totalSteps;) {
      signal.throwIfAborted();
      const next = await this.runStep(jobId, spec, layouts, step, weights, velocity, signal, workspace);
      const stepsDone = step + roundSteps(spec, step);
      weights = next;
      velocity = next.velocity;
      if (evalDue(spec, step, stepsDone)) await this.evaluate(jobId, spec, stepsDone, signal);
      if (this.checkpoints.due(spec, step, stepsDone)) {
        await this.checkpoints.save(jobId, spec, stepsDone, next, next.encoded, next.velocity);
      }
      step = stepsDone;
    }
    await this.jobs.setStatus(jobId, 'completed');
    this.logger.log(`job ${jobId} completed after ${spec.totalSteps} steps`);
  }

  private async runStep(
    jobId: string,
    spec: TrainingJobSpec,
    layouts: ModelLayouts,
    step: number,
    weights: ModelWeights,
    velocity: Float32Array,
    signal: AbortSignal,
    workspace: StepWorkspace,
  ): Promise<ModelWeights & { velocity: Float32Array; encoded: Buffer }> {
    const started = performance.now();
    const steps = roundSteps(spec, step);
    const nextVersion = step + steps;
    const messageKind = shardMessageKind(spec);
    workspace.beginStep();
    const { phases, aggregator } = workspace;
    const channels = layouts.batchNorms.map((b) => b.channels);
    const gradientKeys: string[] = [];
    let slowestShardMs = 0;
    let gradientBytes = 0;
    const nonFiniteReports = new Set<number>();
    const { enqueueMs } = await this.dispatcher.run(
      trainTasks(jobId, spec, step),
      async (task, outcome) => {
        phases.arrived(outcome);
        if (outcome.gradientKey) gradientKeys.push(outcome.gradientKey); // freed at commit, used or not
        if (outcome.nonFinite) {
          // Recompute once: a second report for the same shard means the numbers really overflow.
          if (nonFiniteReports.has(task.shard)) {
            throw new TrainingDivergedError(
              `training diverged at step ${step}: shard ${task.shard} gives non-finite loss or gradients; lower the learning rate (now ${lrAt(scheduleOf(spec), step)})`,
            );
          }
          nonFiniteReports.add(task.shard);
          throw new RejectedShardResultError('the worker reports non-finite loss or gradients', {
            countsAgainstShard: false,
            blamesWorker: false,
          });
        }
        // Both reads at once: one round trip of waiting.
        const [quarantined, message] = await Promise.all([
          this.workers.isQuarantined(outcome.workerId),
          outcome.gradientKey ? this.jobs.gradient(outcome.gradientKey, workspace.gradientBuffer()) : null,
        ]);
        const readAt = performance.now();
        if (quarantined) {
          throw new RejectedShardResultError(`worker ${outcome.workerId} is quarantined`, {
            countsAgainstShard: false,
            blamesWorker: false,
          });
        }
        if (
          aggregator.add(
            task.shard,
            validatedContribution(layouts, outcome, message, messageKind, workspace.gradientBuffer()),
          )
        ) {
          slowestShardMs = Math.max(slowestShardMs, outcome.computeMs);
        }
        gradientBytes += outcome.gradientBytes ?? 0;
        phases.aggregated(readAt);
      },
      signal,
      (outcome, err) =>
        err.blame.blamesWorker ? this.workers.recordRejectedResult(outcome.workerId, err.message) : undefined,
      // Only now: announced at the commit, the workers' fetches of a big version would hold up this enqueue in Redis.
      () => this.jobs.announceVersion(jobId, step, previousVersion(spec, step)),
    );
    phases.enqueued(enqueueMs);
    phases.allFolded();
    const waitMs = performance.now() - started;
    const lr = lrAt(scheduleOf(spec), nextVersion - 1);
    // In place: the loop keeps no earlier version, and copying a big model every step costs.
    const next = { ...weights, velocity };
    let total;
    let finite;
    if (usesLocalSgd(spec)) {
      total = aggregator.roundResult(steps);
      finite = applyRoundInPlace(next, total, steps, channels);
    } else {
      total = aggregator.result();
      finite = applyStepInPlace(next, total, lr, spec.optimizer, channels);
    }
    const loss = total.lossSum / total.count;
    if (!finite) {
      throw new TrainingDivergedError(
        `training diverged at step ${step}: the update made weights non-finite; lower the learning rate (now ${lr})`,
      );
    }
    phases.publishing();
    const encoded = ModelTensorCodec.encode(
      layouts,
      next.params,
      next.state,
      { version: nextVersion },
      { into: workspace.weightsMessage },
    );
    const stepMs = performance.now() - started;
    const metrics: StepMetrics = {
      step: nextVersion,
      epoch: nextVersion / spec.stepsPerEpoch,
      loss,
      accuracy: total.correct / total.count,
      lr,
      imagesPerSecond: (total.count * 1000) / stepMs,
      stepMs,
      waitMs,
      slowestShardMs,
      at: Date.now(),
      ...phases.metrics(),
      gradientBytes,
    };
    await this.jobs.commitStep({
      jobId,
      version: nextVersion,
      weights: encoded,
      velocity: next.velocity,
      velocityMessage: workspace.velocityMessage,
      gradientKeys,
      metrics,
    });
    phases.published();
    this.metrics.observeStep(jobId, metrics, gradientBytes);
    return { ...next, encoded };
  }

  private async evaluate(
    jobId: string,
    spec: TrainingJobSpec,
    version: number,
    signal: AbortSignal,
  ): Promise<void> {
    let lossSum = 0;
    let correct = 0;
    let correctTop5 = 0;
    let count = 0;
    await this.dispatcher.run(
      evalTasks(jobId, spec, version),
      (_task, outcome) => {
        lossSum += outcome.lossSum;
        correct += outcome.correct;
        correctTop5 += outcome.correctTop5 ?? 0;
        count += outcome.count;
      },
      signal,
    );
    const metrics = {
      step: version,
      epoch: version / spec.stepsPerEpoch,
      loss: lossSum / count,
      accuracy: correct / count,
      top5: correctTop5 / count,
      count,
      at: Date.now(),
    };
    await this.jobs.pushEval(jobId, metrics);
    this.logger.log(`job ${jobId} step ${version}: test accuracy ${(metrics.accuracy * 100).toFixed(2)}%`);
  }
}
