import { Injectable, Logger } from '@nestjs/common';
import { ModelLayouts, ModelWeights } from '@resnet/model';
import { AggregatedStep, applyRoundInPlace, applyStepInPlace, lrAt } from '@resnet/optimizer';
import { EvalMetrics, ShardOutcome, ShardTask, StepMetrics } from '@resnet/protocol';
import {
  ModelTensorCodec,
  previousVersion,
  roundSteps,
  scheduleOf,
  shardMessageKind,
  TrainingJobSpec,
  usesLocalSgd,
} from '@resnet/job';
import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';
import { MetricsService } from '../metrics/metrics.service';
import { evalTasks, trainTasks } from '../plan/training-plan';
import { JobRepository } from '../repositories/job.repository';
import { ShardDispatcher } from '../repositories/shard-dispatcher';
import { WorkersService } from '../workers/workers.service';
import { validatedContribution } from './shard-result.validator';
import { StepWorkspace } from './step-workspace';

/** One step of a job (or one local-SGD round), from the weights it starts at. */
export interface StepRunOptions {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  readonly layouts: ModelLayouts;
  /** The global step it starts at: the version of `weights`. */
  readonly step: number;
  /** Updated in place: the loop keeps no earlier version, and copying a big model every step costs. */
  readonly weights: ModelWeights;
  /** The optimizer's momentum, updated in place like the weights. */
  readonly velocity: Float32Array;
  /** Kept by the job's loop from one step to the next. */
  readonly workspace: StepWorkspace;
  readonly signal: AbortSignal;
  /** The fencing token the job's loop started under: its commit is refused once another coordinator leads. */
  readonly fence: number;
}

/** The committed version: the weights, the momentum, and the weights as encoded for Redis. */
export interface CommittedStep extends ModelWeights {
  readonly velocity: Float32Array;
  /** Valid until the workspace encodes the next step. */
  readonly encoded: Buffer;
}

/** One evaluation of a committed weights version on the test set. */
export interface EvalRunOptions {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  readonly version: number;
  readonly signal: AbortSignal;
  /** As in StepRunOptions. */
  readonly fence: number;
}

/** What the shards' results add up to: samples, summed loss and correct predictions. */
type StepTotals = Pick<AggregatedStep, 'count' | 'lossSum' | 'correct'>;

/** What a step gathers from its shards as they arrive. */
class ShardTally {
  /**
   * The quarantined workers, read once as the step starts rather than once per result; those the
   * step quarantines join as it does. (A worker released meanwhile has its results recomputed.)
   */
  constructor(readonly quarantined: Promise<Set<string>>) {}

  /** Gradient messages to free at the commit, used or not. */
  readonly gradientKeys: string[] = [];
  slowestShardMs = 0;
  gradientBytes = 0;
  /** Shards whose worker reported non-finite numbers once: a second report means real divergence. */
  readonly nonFiniteReports = new Set<number>();
}

/**
 * Runs one synchronous SGD step: enqueue its shards, check and fold their gradients as they
 * arrive, apply the optimizer under the job's schedule, and commit the next weights version.
 * With local SGD a step is a round of several global steps whose shards send weight changes,
 * which are averaged instead. Also runs evaluations of committed versions.
 */
@Injectable()
export class StepRunner {
  private readonly logger = new Logger(StepRunner.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly dispatcher: ShardDispatcher,
    private readonly workers: WorkersService,
    private readonly metrics: MetricsService,
  ) {}

  async run(o: StepRunOptions): Promise<CommittedStep> {
    const started = performance.now();
    o.workspace.beginStep();
    const { phases } = o.workspace;
    const quarantined = this.workers.quarantinedWorkers();
    quarantined.catch(() => undefined); // awaited with each result: a step stopped before any must not leave it unhandled
    const tally = new ShardTally(quarantined);
    const { enqueueMs } = await this.dispatcher.run({
      tasks: trainTasks(o.jobId, o.spec, o.step),
      onOutcome: (task, outcome) => this.fold(o, tally, task, outcome),
      signal: o.signal,
      onRejected: async (outcome, err) => {
        if (!err.blame.blamesWorker) return;
        const nowQuarantined = await this.workers.recordRejectedResult(outcome.workerId, err.message);
        if (nowQuarantined) (await quarantined).add(outcome.workerId);
      },
      // Only now: announced at the commit, the workers' fetches of a big version would hold up this enqueue in Redis.
      onEnqueued: () => this.jobs.announceVersion(o.jobId, o.step, previousVersion(o.spec, o.step)),
    });
    phases.enqueued(enqueueMs);
    phases.allFolded();
    const waitMs = performance.now() - started;
    const { total, lr } = this.update(o);
    phases.publishing();
    const nextVersion = o.step + roundSteps(o.spec, o.step);
    const encoded = ModelTensorCodec.encode(
      o.layouts,
      o.weights.params,
      o.weights.state,
      { version: nextVersion },
      { into: o.workspace.weightsMessage },
    );
    const stepMs = performance.now() - started;
    const metrics: StepMetrics = {
      step: nextVersion,
      epoch: nextVersion / o.spec.stepsPerEpoch,
      loss: total.lossSum / total.count,
      accuracy: total.correct / total.count,
      lr,
      imagesPerSecond: (total.count * 1000) / stepMs,
      stepMs,
      waitMs,
      slowestShardMs: tally.slowestShardMs,
      at: Date.now(),
      ...phases.metrics(),
      gradientBytes: tally.gradientBytes,
    };
    await this.jobs.commitStep(
      {
        jobId: o.jobId,
        previous: o.step,
        version: nextVersion,
        weights: encoded,
        velocity: o.velocity,
        velocityMessage: o.workspace.velocityMessage,
        gradientKeys: tally.gradientKeys,
        metrics,
      },
      o.fence,
    );
    phases.published();
    this.metrics.observeStep(o.jobId, metrics, tally.gradientBytes);
    return { ...o.weights, velocity: o.velocity, encoded };
  }

  /** Evaluates a committed version on the test set and records the result. */
  async evaluate({ jobId, spec, version, signal, fence }: EvalRunOptions): Promise<EvalMetrics> {
    let lossSum = 0;
    let correct = 0;
    let correctTop5 = 0;
    let count = 0;
    await this.dispatcher.run({
      tasks: evalTasks(jobId, spec, version),
      onOutcome: (_task, outcome) => {
        lossSum += outcome.lossSum;
        correct += outcome.correct;
        correctTop5 += outcome.correctTop5 ?? 0;
        count += outcome.count;
      },
      signal,
    });
    const metrics: EvalMetrics = {
      step: version,
      epoch: version / spec.stepsPerEpoch,
      loss: lossSum / count,
      accuracy: correct / count,
      top5: correctTop5 / count,
      count,
      at: Date.now(),
    };
    await this.jobs.pushEval(jobId, metrics, fence);
    this.logger.log(`job ${jobId} step ${version}: test accuracy ${(metrics.accuracy * 100).toFixed(2)}%`);
    return metrics;
  }

  /** Checks a shard's result and folds it in; a result that must not be used throws RejectedShardResultError. */
  private async fold(
    o: StepRunOptions,
    tally: ShardTally,
    task: ShardTask,
    outcome: ShardOutcome,
  ): Promise<void> {
    const { workspace } = o;
    workspace.phases.arrived(outcome);
    if (outcome.gradientKey) tally.gradientKeys.push(outcome.gradientKey);
    if (outcome.nonFinite) {
      // Recompute once: a second report for the same shard means the numbers really overflow.
      if (tally.nonFiniteReports.has(task.shard)) {
        throw new TrainingDivergedError(
          `training diverged at step ${o.step}: shard ${task.shard} gives non-finite loss or gradients; lower the learning rate (now ${lrAt(scheduleOf(o.spec), o.step)})`,
        );
      }
      tally.nonFiniteReports.add(task.shard);
      throw new RejectedShardResultError('the worker reports non-finite loss or gradients', {
        countsAgainstShard: false,
        blamesWorker: false,
      });
    }
    const [quarantined, message] = await Promise.all([
      tally.quarantined,
      outcome.gradientKey ? this.jobs.gradient(outcome.gradientKey, workspace.gradientBuffer()) : null,
    ]);
    const readAt = performance.now();
    if (quarantined.has(outcome.workerId)) {
      throw new RejectedShardResultError(`worker ${outcome.workerId} is quarantined`, {
        countsAgainstShard: false,
        blamesWorker: false,
      });
    }
    const contribution = validatedContribution(
      o.layouts,
      outcome,
      message,
      { jobId: o.jobId, step: o.step, shard: task.shard, kind: shardMessageKind(o.spec) },
      workspace.gradientBuffer(),
    );
    if (workspace.aggregator.add(task.shard, contribution)) {
      tally.slowestShardMs = Math.max(tally.slowestShardMs, outcome.computeMs);
    }
    tally.gradientBytes += outcome.gradientBytes ?? 0;
    workspace.phases.aggregated(readAt);
  }

  /** Averages what the shards sent and applies it to the weights and momentum in place. */
  private update(o: StepRunOptions): { total: StepTotals; lr: number } {
    const { aggregator } = o.workspace;
    const steps = roundSteps(o.spec, o.step);
    const lr = lrAt(scheduleOf(o.spec), o.step + steps - 1);
    const channels = o.layouts.batchNorms.map((b) => b.channels);
    const next = { ...o.weights, velocity: o.velocity };
    let total: StepTotals;
    let finite: boolean;
    if (usesLocalSgd(o.spec)) {
      const round = aggregator.roundResult(steps);
      finite = applyRoundInPlace(next, round, steps, channels);
      total = round;
    } else {
      const step = aggregator.result();
      finite = applyStepInPlace(next, step, lr, o.spec.optimizer, channels);
      total = step;
    }
    if (!finite) {
      throw new TrainingDivergedError(
        `training diverged at step ${o.step}: the update made weights non-finite; lower the learning rate (now ${lr})`,
      );
    }
    return { total, lr };
  }
}
