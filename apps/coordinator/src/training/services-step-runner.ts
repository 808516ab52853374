import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { lrAt } from '@resnet/optimizer';
import { ShardOutcome, ShardTask, StepMetrics, StepReport, UnitCommit, UnitRoute } from '@resnet/protocol';
import { scheduleOf, TrainingJobSpec } from '@resnet/job';
import { RejectedShardResultError, TrainingDivergedError } from '../errors/shard.errors';
import { ServicesUnavailableError, UnitOwnerLostError } from '../errors/summation-services.errors';
import { MetricsService } from '../metrics/metrics.service';
import { trainTasks } from '../plan/training-plan';
import { JobRepository, UnitRecord } from '../repositories/job.repository';
import { ShardDispatcher } from './dispatch/shard-dispatcher';
import { SummationServicesRepository } from '../repositories/summation-services.repository';
import { NonFiniteReports } from './non-finite-reports';

/** How often the loop looks again for reports that are not there yet. */
const POLL_MS = 5;
/** How often a step checks that every unit still has the owner it was routed to. */
const WATCH_MS = 250;
/** How long a step waits for every unit to have a live owner before it gives up. */
const OWNERS_WITHIN_MS = 60_000;

/** Where a job on summation services stands: its last commit record, and the attempt its steps run under. */
export interface ServicesPosition {
  readonly record: UnitRecord;
  readonly attempt: number;
}

export interface ServicesStepOptions extends ServicesPosition {
  readonly jobId: string;
  readonly spec: TrainingJobSpec;
  /** The version the step starts from: record.version. */
  readonly step: number;
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
 *
 * A unit whose owner is lost mid-step (its lease gone or taken) has the step redone under a higher
 * attempt once the unit has a new owner, which restored it from its last durable version. Services
 * write a version durable during the step after its commit, and a commit waits until the version
 * before it is durable, so the new owner has the step's version or the one before: in the second
 * case the job rolls back one step and replays it (compute is deterministic: the same bits).
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

  /** Where the loop starts: the last commit's record, or the durable units' hashes when the job has none at its step. */
  async positionAt(
    jobId: string,
    spec: TrainingJobSpec,
    version: number,
    signal: AbortSignal,
  ): Promise<ServicesPosition> {
    const { record, attempt } = await this.jobs.unitRecord(jobId);
    if (record?.version === version) return { record, attempt };
    await this.untilDurable(jobId, spec, version, signal);
    return { record: await this.durableRecord(jobId, spec, version), attempt };
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
      // On a step's path only when the services' last durable write is late: looked at often.
      await sleep(POLL_MS / 2);
    }
  }

  /** Runs the step (redone as often as services are lost) and returns the position it leads to. */
  async run(o: ServicesStepOptions): Promise<ServicesPosition> {
    let routes = await this.routes(o);
    // An owner lost between two steps: its successor restored the unit's last durable version.
    if (movedSinceCommit(o.record, routes) && !(await this.services.durable(o.jobId, o.spec, o.step)))
      return this.rollBack(o, o.attempt + 1);
    for (let attempt = o.attempt; ;) {
      try {
        return { record: await this.attempt(o, attempt, routes), attempt };
      } catch (err) {
        if (!(err instanceof UnitOwnerLostError)) throw err;
        this.logger.warn(`job ${o.jobId} step ${o.step}: ${err.message}; redoing the step`);
      }
      routes = await this.routes(o); // every unit has an owner again
      attempt++;
      if (!(await this.services.durable(o.jobId, o.spec, o.step))) return this.rollBack(o, attempt);
      await this.jobs.redoStep(o.jobId, o.fence, o.step, attempt);
    }
  }

  /** A new owner's durable version is the one before the step's: the job goes back one step, to replay it. */
  private async rollBack(o: ServicesStepOptions, attempt: number): Promise<ServicesPosition> {
    const back = await this.durableRecord(o.jobId, o.spec, o.step - 1);
    await this.jobs.redoStep(o.jobId, o.fence, o.step, attempt, back);
    this.logger.warn(`job ${o.jobId} rolled back to step ${back.version} to replay it`);
    return { record: back, attempt };
  }

  private async durableRecord(jobId: string, spec: TrainingJobSpec, version: number): Promise<UnitRecord> {
    const hashes = await this.services.durableHashes(jobId, spec, version);
    if (!hashes)
      throw new ServicesUnavailableError(
        `units of job ${jobId} at version ${version} are missing from Redis`,
      );
    // Which service holds each unit is read from the leases at each step; the record's epochs are the last commit's.
    return { version, units: hashes.map((hash, unit) => ({ unit, epoch: 0, hash })) };
  }

  /** One try at the step under `attempt`; throws UnitOwnerLostError when a routed owner is lost. */
  private async attempt(
    o: ServicesStepOptions,
    attempt: number,
    routes: readonly UnitRoute[],
  ): Promise<UnitRecord> {
    const lost = new AbortController();
    const signal = AbortSignal.any([o.signal, lost.signal]);
    const watch = setInterval(() => {
      void this.ownerLost(o, routes).then(
        (problem) => problem && lost.abort(new UnitOwnerLostError(problem)),
        () => undefined, // Redis unreachable: the next look, or the step itself, will say so
      );
    }, WATCH_MS);
    try {
      return await this.attemptRoutes(o, attempt, routes, signal);
    } finally {
      clearInterval(watch);
    }
  }

  private async attemptRoutes(
    o: ServicesStepOptions,
    attempt: number,
    routes: readonly UnitRoute[],
    signal: AbortSignal,
  ): Promise<UnitRecord> {
    const started = performance.now();
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
      signal,
      onOutcome: (task, outcome) => {
        if (outcome.nonFinite) nonFinite.refuse(o.step, task.shard, lr);
        if (outcome.refused) throw refusal(outcome);
        slowestShardMs = Math.max(slowestShardMs, outcome.computeMs);
        gradientBytes += outcome.gradientBytes ?? 0;
      },
    });
    const waitMs = performance.now() - started;
    const reports = await this.reports(o, attempt, routes, signal);
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
    // The version before must be durable before this one is committed: a lost owner then has at
    // worst one step to replay (see the class comment). It was written during this step: no wait.
    await this.untilDurable(o.jobId, o.spec, o.step, signal);
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

  /** Why a routed unit no longer has its owner (its lease gone or taken), or null. */
  private async ownerLost(o: ServicesStepOptions, routes: readonly UnitRoute[]): Promise<string | null> {
    const leases = await this.services.leases(o.jobId, o.spec);
    const moved = routes.find((r) => leases[r.unit]?.epoch !== r.epoch);
    return moved ? `unit ${moved.unit} lost its owner at ${moved.address} (epoch ${moved.epoch})` : null;
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
    signal: AbortSignal,
  ): Promise<StepReport[]> {
    for (;;) {
      const reports = await this.services.reports(o.jobId, o.step, attempt);
      // A report of a deposed owner (another epoch) is left out.
      const current = reports.filter((r) => r.units.every((u) => u.epoch === routes[u.unit].epoch));
      const covered = new Set<number>(current.flatMap((r) => r.units.map((u: UnitCommit) => u.unit)));
      if (covered.size === routes.length) return current;
      signal.throwIfAborted();
      await sleep(POLL_MS);
    }
  }
}

/** Whether a unit changed owner since the record's commit (epochs of 0: a record read from the durable units). */
function movedSinceCommit(record: UnitRecord, routes: readonly UnitRoute[]): boolean {
  return routes.some((r) => record.units[r.unit].epoch !== 0 && record.units[r.unit].epoch !== r.epoch);
}

/** A unit a service refused: the shard is recomputed whole. */
function refusal(outcome: ShardOutcome): RejectedShardResultError {
  const { reason, workersFault } = outcome.refused!;
  return new RejectedShardResultError(`a summation service refused a unit: ${reason}`, {
    countsAgainstShard: workersFault,
    blamesWorker: workersFault,
  });
}
