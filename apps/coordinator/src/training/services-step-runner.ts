import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { lrAt } from '@resnet/optimizer';
import { ShardOutcome, ShardTask, StepMetrics, StepReport, UnitCommit, UnitRoute } from '@resnet/protocol';
import { scheduleOf, TrainingJobSpec } from '@resnet/job';
import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';
import { ServicesUnavailableError } from '../errors/training.errors';
import { MetricsService } from '../metrics/metrics.service';
import { trainTasks } from '../plan/training-plan';
import { JobRepository, UnitRecord } from '../repositories/job.repository';
import { ShardDispatcher } from '../repositories/shard-dispatcher';
import { SummationServicesRepository } from '../repositories/summation-services.repository';
import { NonFiniteReports } from './non-finite-reports';

/** How often the loop looks again for unit owners and reports that are not there yet. */
const POLL_MS = 5;
/** How long a step waits for every unit to have a live owner before it gives up. */
const OWNERS_WITHIN_MS = 60_000;

export interface ServicesStepOptions {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  /** The version the step starts from. */
  readonly step: number;
  /** The commit record of version `step`: the hash each pulled unit must have. */
  readonly record: UnitRecord;
  readonly signal: AbortSignal;
  readonly fence: number;
}

/**
 * One synchronous SGD step of a job on summation services. The coordinator routes the shards:
 * each shard task names every unit's owner (lease holder), lease epoch and expected weights hash;
 * workers pull weights units from the owners and push gradient units to them, and the services
 * fold, update and report. The coordinator reads no gradient or weights bytes: it learns the step
 * is done from one report per service, checks that every unit was updated under the epoch it was
 * routed to, and commits the step with each unit's epoch and new hash as the commit record.
 */
@Injectable()
export class ServicesStepRunner {
  private readonly logger = new Logger(ServicesStepRunner.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly services: SummationServicesRepository,
    private readonly dispatcher: ShardDispatcher,
    private readonly metrics: MetricsService,
  ) {}

  /** The record the loop starts from: the last commit's, or the durable units' hashes when the job has none at its step. */
  async recordAt(
    jobId: string,
    spec: TrainingJobSpec,
    version: number,
    signal: AbortSignal,
  ): Promise<UnitRecord> {
    const stored = await this.jobs.unitRecord(jobId);
    if (stored?.version === version) return stored;
    await this.untilDurable(jobId, spec, version, signal);
    const hashes = await this.services.durableHashes(jobId, spec, version);
    if (!hashes)
      throw new ServicesUnavailableError(
        `units of job ${jobId} at version ${version} are missing from Redis`,
      );
    // No service has taken these units yet: the epochs are filled in from the leases at each step.
    return { version, units: hashes.map((hash, unit) => ({ unit, epoch: 0, hash })) };
  }

  /** Resolves once every unit's weights of `version` are durable in Redis (written by the services after the commit). */
  async untilDurable(
    jobId: string,
    spec: TrainingJobSpec,
    version: number,
    signal: AbortSignal,
  ): Promise<void> {
    while (!(await this.services.durable(jobId, spec, version))) {
      signal.throwIfAborted();
      await sleep(POLL_MS * 4);
    }
  }

  /** Runs the step and returns the commit record of the version it made. */
  async run(o: ServicesStepOptions): Promise<UnitRecord> {
    const started = performance.now();
    const attempt = 0;
    const routes = await this.routes(o);
    const lr = lrAt(scheduleOf(o.spec), o.step);
    const nonFinite = new NonFiniteReports();
    let slowestShardMs = 0;
    let gradientBytes = 0;
    const tasks: ShardTask[] = trainTasks(o.jobId, o.spec, o.step).map((t) => ({
      ...t,
      attempt,
      units: routes,
    }));
    const { enqueueMs } = await this.dispatcher.run({
      tasks,
      signal: o.signal,
      onOutcome: (task, outcome) => {
        if (outcome.nonFinite) nonFinite.refuse(o.step, task.shard, lr);
        if (outcome.refused) throw refusal(outcome);
        slowestShardMs = Math.max(slowestShardMs, outcome.computeMs);
        gradientBytes += outcome.gradientBytes ?? 0;
      },
    });
    const waitMs = performance.now() - started;
    const reports = await this.reports(o, attempt, routes);
    if (reports.some((r) => !r.finite))
      throw new TrainingDivergedError(
        `training diverged at step ${o.step}: the update made weights non-finite; lower the learning rate (now ${lr})`,
      );
    const units = reports.flatMap((r) => r.units).sort((a, b) => a.unit - b.unit);
    // Every service folded the same shards: the totals are the first report's.
    const shards = reports[0].shards;
    const count = shards.reduce((n, s) => n + s.count, 0);
    const version = o.step + 1;
    const stepMs = performance.now() - started;
    const metrics: StepMetrics = {
      step: version,
      epoch: version / o.spec.stepsPerEpoch,
      loss: shards.reduce((n, s) => n + s.lossSum, 0) / count,
      accuracy: shards.reduce((n, s) => n + s.correct, 0) / count,
      lr,
      imagesPerSecond: (count * 1000) / stepMs,
      stepMs,
      waitMs,
      slowestShardMs,
      at: Date.now(),
      enqueueMs,
      weightFetchMs: 0,
      uploadMs: 0,
      lastArrivalMs: waitMs,
      aggregateMs: 0,
      optimizerMs: 0,
      gradientBytes,
    };
    await this.jobs.commitServicesStep(
      {
        jobId: o.jobId,
        previous: o.step,
        version,
        units,
        metrics,
        reportKeys: [this.services.reportKey(o.jobId, o.step, attempt)],
      },
      o.fence,
    );
    // The services make the version committed (and durable) when they hear this; workers prefetch it.
    await this.jobs.announceVersion(o.jobId, version, o.step);
    this.metrics.observeStep(o.jobId, metrics, gradientBytes);
    return { version, units };
  }

  /** Each unit's owner, epoch and expected hash; waits until every unit has a live owner. */
  private async routes(o: ServicesStepOptions): Promise<UnitRoute[]> {
    const deadline = Date.now() + OWNERS_WITHIN_MS;
    for (;;) {
      const [leases, live] = await Promise.all([
        this.services.leases(o.jobId, o.spec),
        this.services.liveServices(),
      ]);
      const address = new Map(live.map((s) => [s.id, s.address]));
      if (leases.every((l) => l && address.has(l.serviceId)))
        return leases.map((l, unit) => ({
          unit,
          address: address.get(l!.serviceId)!,
          epoch: l!.epoch,
          hash: o.record.units[unit].hash,
        }));
      o.signal.throwIfAborted();
      if (Date.now() > deadline)
        throw new ServicesUnavailableError(
          `job ${o.jobId}: ${leases.filter((l) => !l).length} of ${leases.length} units have no summation service after ${OWNERS_WITHIN_MS} ms; start services with npm run aggregator`,
        );
      await sleep(POLL_MS * 20);
    }
  }

  /** The services' reports of the step, once every unit is covered under the epoch it was routed to. */
  private async reports(
    o: ServicesStepOptions,
    attempt: number,
    routes: readonly UnitRoute[],
  ): Promise<StepReport[]> {
    for (;;) {
      const reports = await this.services.reports(o.jobId, o.step, attempt);
      const covered = new Map<number, UnitCommit>();
      for (const r of reports)
        for (const u of r.units) if (u.epoch === routes[u.unit].epoch) covered.set(u.unit, u);
      if (covered.size === routes.length) {
        // A report of a deposed owner (another epoch) is left out.
        return reports.filter((r) => r.units.every((u) => u.epoch === routes[u.unit].epoch));
      }
      o.signal.throwIfAborted();
      await sleep(POLL_MS);
    }
  }
}

/** A unit a service refused: the shard is recomputed whole. */
function refusal(outcome: ShardOutcome): RejectedShardResultError {
  const { reason, workersFault } = outcome.refused!;
  return new RejectedShardResultError(`a summation service refused a unit: ${reason}`, {
    countsAgainstShard: workersFault,
    blamesWorker: workersFault,
  });
}
