import { Injectable, Logger } from '@nestjs/common';
import { lrAt } from '@resnet/optimizer';
import { EvalMetrics, ShardOutcome, ShardTask, StepMetrics } from '@resnet/protocol';
import {
  previousVersion,
  roundSteps,
  scheduleOf,
  shardMessageKind,
  TrainingJobSpec,
  usesLocalSgd,
  precisionOf,
} from '@resnet/job';
import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';
import { MetricsService } from '../metrics/metrics.service';
import { evalTasks, trainTasks } from '../plan/training-plan';
import { JobRepository } from '../repositories/job.repository';
import { ShardDispatcher } from './dispatch/shard-dispatcher';
import { WorkersService } from '../workers/workers.service';
import { ModelMemory, StepTotals } from './aggregation/partition-aggregation';
import { NonFiniteReports } from './non-finite-reports';
import { StepWorkspace } from './aggregation/step-workspace';

/** One step of a job (or one local-SGD round), from the weights it starts at. */
export interface StepRunOptions {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  /** The global step it starts at: the version the workspace's model holds. */
  readonly step: number;
  /** Kept by the job's loop from one step to the next; its model is updated in place. */
  readonly workspace: StepWorkspace;
  readonly signal: AbortSignal;
  /** The fencing token the job's loop started under: its commit is refused once another coordinator leads. */
  readonly fence: number;
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

/** What a step gathers from its shards as they arrive. */
class ShardTally {
  /** Gradient messages to free at the commit, used or not, per partition. */
  readonly gradientKeys: string[][];
  slowestShardMs = 0;
  gradientBytes = 0;
  readonly nonFinite = new NonFiniteReports();

  /**
   * `quarantined`: the quarantined workers, read once as the step starts rather than once per
   * result; those the step quarantines join as it does. (A worker released meanwhile has its
   * results recomputed.)
   */
  constructor(
    partitions: number,
    readonly quarantined: Promise<Set<string>>,
  ) {
    this.gradientKeys = Array.from({ length: partitions }, () => []);
  }
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

  /** Returns the committed version: the workspace's model, valid until the next step changes it. */
  async run(o: StepRunOptions): Promise<ModelMemory> {
    const started = performance.now();
    await o.workspace.beginStep();
    const { phases, model, aggregators, memory } = o.workspace;
    const quarantined = this.workers.quarantinedWorkers();
    quarantined.catch(() => undefined); // awaited with each result: a step stopped before any must not leave it unhandled
    const tally = new ShardTally(model.partitions.length, quarantined);
    const { enqueueMs } = await this.dispatcher.run({
      tasks: trainTasks(o.jobId, o.spec, o.step),
      precision: precisionOf(o.spec),
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
    const { total, lr } = await this.update(o);
    phases.publishing();
    const nextVersion = o.step + roundSteps(o.spec, o.step);
    await Promise.all(aggregators.map((a) => a.stage(o.jobId, nextVersion, o.fence)));
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
        partitions: model.partitions.length,
        gradientKeys: tally.gradientKeys,
        metrics,
      },
      o.fence,
    );
    phases.published();
    this.metrics.observeStep(o.jobId, metrics, tally.gradientBytes);
    return memory;
  }

  /** Evaluates a committed version on the test set and records the result. */
  async evaluate({ jobId, spec, version, signal, fence }: EvalRunOptions): Promise<EvalMetrics> {
    let lossSum = 0;
    let correct = 0;
    let correctTop5 = 0;
    let count = 0;
    await this.dispatcher.run({
      tasks: evalTasks(jobId, spec, version),
      precision: precisionOf(spec),
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
    // At debug: followers (the CLI, the dashboard) show each evaluation once, in step order.
    this.logger.debug(
      `job ${jobId} step ${version}: test loss ${metrics.loss.toFixed(4)}, accuracy ${(metrics.accuracy * 100).toFixed(2)}%`,
    );
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
    const { partitions } = workspace.model;
    workspace.phases.arrived(outcome);
    const keys = outcome.gradientKeys ?? [];
    keys.forEach((key, p) => tally.gradientKeys[p]?.push(key));
    if (outcome.nonFinite) tally.nonFinite.refuse(o.step, task.shard, lrAt(scheduleOf(o.spec), o.step));
    if (keys.length !== partitions.length) {
      throw new RejectedShardResultError(
        `it sent ${keys.length} partition messages where the job has ${partitions.length}`,
      );
    }
    const expected = { jobId: o.jobId, step: o.step, shard: task.shard, kind: shardMessageKind(o.spec) };
    // Every partition reads and checks its message at once (from its own Redis master, in its own
    // thread): one round trip of waiting.
    const checks = workspace.aggregators.map((a, p) =>
      a.check(task.shard, keys[p], outcome, { ...expected, partition: p }),
    );
    const [quarantined, checked] = await Promise.all([tally.quarantined, Promise.allSettled(checks)]);
    const foldStarted = performance.now();
    const refused = checked.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    const fromQuarantined = quarantined.has(outcome.workerId);
    if (fromQuarantined || refused) {
      // A shard counts whole or not at all: no partition keeps what it checked.
      await Promise.all(workspace.aggregators.map((a) => a.drop(task.shard)));
      // A quarantined worker's results are ignored, not held against it again, whatever they hold.
      if (refused && !fromQuarantined) throw refused.reason;
      throw new RejectedShardResultError(`worker ${outcome.workerId} is quarantined`, {
        countsAgainstShard: false,
        blamesWorker: false,
      });
    }
    const [added] = await Promise.all(workspace.aggregators.map((a) => a.fold(task.shard)));
    if (added) tally.slowestShardMs = Math.max(tally.slowestShardMs, outcome.computeMs);
    tally.gradientBytes += outcome.gradientBytes ?? 0;
    workspace.phases.aggregated(foldStarted);
  }

  /** Averages what the shards sent and applies it to the model in place, every partition side by side. */
  private async update(o: StepRunOptions): Promise<{ total: StepTotals; lr: number }> {
    const steps = roundSteps(o.spec, o.step);
    const lr = lrAt(scheduleOf(o.spec), o.step + steps - 1);
    const update = { lr, sgd: o.spec.optimizer, ...(usesLocalSgd(o.spec) ? { localSteps: steps } : {}) };
    const results = await Promise.all(o.workspace.aggregators.map((a) => a.update(update)));
    if (results.some((r) => !r.finite)) {
      throw new TrainingDivergedError(
        `training diverged at step ${o.step}: the update made weights non-finite; lower the learning rate (now ${lr})`,
      );
    }
    // Every partition folded the same shards: the totals are partition 0's.
    return { total: results[0].totals, lr };
  }
}
