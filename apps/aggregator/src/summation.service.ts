import { layoutsOf } from '@resnet/model';
import { lrAt } from '@resnet/optimizer';
import { ShardReport, UnitCommit, xxh3Hex } from '@resnet/protocol';
import {
  architectureOf,
  checkedShardMessage,
  foldGroupOf,
  ModelPartition,
  partitionedModel,
  scheduleOf,
  ShardMessageError,
  shardMessageKind,
  TrainingJobSpec,
} from '@resnet/job';
import { PullRequest, PushRequest, UnitRequest, UnitResponse } from '@resnet/unit-transport';
import { ServiceRegistryRepository } from './repositories/service-registry.repository';
import { UnitLeaseRepository } from './repositories/unit-lease.repository';
import { UnitStoreRepository } from './repositories/unit-store.repository';
import { UnitHolder } from './unit-holder';

/** A job this service holds units of. */
interface ServedJob {
  readonly spec: TrainingJobSpec;
  readonly units: readonly ModelPartition[];
  readonly held: Map<number, UnitHolder>;
  /** The highest attempt of the coordinator's seen (see UnitHolder.attempt); the report carries it. */
  attempt: number;
  /** Shards folded in the current step, with their totals, for the report. */
  readonly shards: Map<number, ShardReport>;
  reported: boolean;
}

export interface SummationServiceOptions {
  readonly id: string;
  /** How long a unit lease lasts unless renewed (every third of it). */
  readonly leaseMs: number;
}

type Answer = { readonly response: UnitResponse; readonly payload?: Buffer };

function refused(reason: string, workersFault = false): Answer {
  return { response: { ok: false, reason, workersFault } };
}

const OK: Answer = { response: { ok: true } };

/**
 * A summation service's logic. It holds the leases of some units of each job the coordinator trains
 * on services (an even share of each job's units among the live services), keeps their weights and
 * momentum in memory, takes the shards' gradient units that workers push, folds them in the job's
 * order, applies SGD and the batch-norm running-statistics update when every shard is in, reports
 * the step to the coordinator (one report per step), serves weights units to the workers that pull
 * them, and writes each committed version durable off the step's path.
 */
export class SummationService {
  private readonly jobs = new Map<string, ServedJob>();
  /** Units being taken back to a durable version: requests for them wait. */
  private readonly rebasing = new Map<UnitHolder, Promise<void>>();
  /** Durable writes in flight, one chain per unit, so that versions land in order. */
  private readonly durableWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly options: SummationServiceOptions,
    private readonly registry: ServiceRegistryRepository,
    private readonly leases: UnitLeaseRepository,
    private readonly store: UnitStoreRepository,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Renews this service's leases (dropping the units whose lease is lost), drops jobs no longer
   * served, and takes free units up to an even share of each job's. Run every third of the lease.
   */
  async tick(): Promise<void> {
    const [jobIds, live] = await Promise.all([this.registry.serviceJobs(), this.registry.liveServices()]);
    for (const jobId of this.jobs.keys()) if (!jobIds.includes(jobId)) await this.drop(jobId);
    const rank = Math.max(
      0,
      live.findIndex((s) => s.id === this.options.id),
    );
    for (const jobId of jobIds) await this.serve(jobId, rank, Math.max(1, live.length));
  }

  /** Answers a worker's request. */
  handle(request: UnitRequest, payload: Buffer): Promise<Answer> {
    return request.op === 'push' ? this.push(request, payload) : this.pull(request);
  }

  /** The coordinator committed `version` of the job: the tentative units become committed, and are written durable. */
  committed(jobId: string, version: number): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    let promoted = false;
    for (const holder of job.held.values()) {
      if (!holder.promote(version)) continue;
      promoted = true;
      this.writeDurable(jobId, job, holder);
    }
    // Announced again, or already learned from a push of the next step: the step under way stays.
    if (promoted) this.forgetStep(job);
  }

  /** Gives every lease back, for a clean shutdown. */
  async close(): Promise<void> {
    for (const jobId of [...this.jobs.keys()]) await this.drop(jobId);
    await Promise.all(this.durableWrites.values());
  }

  private async serve(jobId: string, rank: number, liveCount: number): Promise<void> {
    let job = this.jobs.get(jobId);
    if (!job) {
      const spec = await this.store.jobSpec(jobId);
      if (!spec) return;
      const { partitions } = partitionedModel(spec, layoutsOf(architectureOf(spec)));
      job = { spec, units: partitions, held: new Map(), attempt: -1, shards: new Map(), reported: false };
      this.jobs.set(jobId, job);
    }
    const count = job.units.length;
    for (const [unit, holder] of job.held) {
      if (
        !(await this.leases.renew(jobId, unit, count, this.options.id, holder.epoch, this.options.leaseMs))
      ) {
        this.log(`lost the lease of unit ${unit} of job ${jobId}`);
        job.held.delete(unit);
      }
    }
    const share = Math.ceil(count / liveCount);
    // Each service starts looking at its own place in the ring, so that services rarely race for a unit.
    for (let i = 0; i < count && job.held.size < share; i++) {
      const unit = (rank * share + i) % count;
      if (job.held.has(unit)) continue;
      const epoch = await this.leases.acquire(jobId, unit, count, this.options.id, this.options.leaseMs);
      if (epoch === null) continue;
      const durable = await this.store.restore(jobId, unit, count);
      const holder = UnitHolder.restored(
        job.units[unit],
        epoch,
        durable,
        job.spec.shardsPerStep,
        foldGroupOf(job.spec),
      );
      job.held.set(unit, holder);
      this.log(`holds unit ${unit} of job ${jobId} at version ${durable.version}, epoch ${epoch}`);
    }
  }

  /** Stops serving a job: its last durable writes land first (the lease fences them), then the leases go back. */
  private async drop(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    if (!job) return;
    const keys = [...job.held.keys()].map((unit) => `${jobId}/${unit}`);
    await Promise.all(keys.map((key) => this.durableWrites.get(key)));
    keys.forEach((key) => this.durableWrites.delete(key));
    await Promise.all(
      [...job.held.values()].map((h) =>
        this.leases.release(jobId, h.unit.index, job.units.length, this.options.id, h.epoch),
      ),
    );
  }

  private async push(request: PushRequest, payload: Buffer): Promise<Answer> {
    const job = this.jobs.get(request.jobId);
    const holder = job?.held.get(request.unit);
    if (!job || !holder)
      return refused(`service ${this.options.id} does not hold unit ${request.unit} of job ${request.jobId}`);
    if (request.epoch !== holder.epoch)
      return refused(`unit ${request.unit} is held at epoch ${holder.epoch}, not ${request.epoch}`);
    const stale = await this.align(request.jobId, job, holder, request.attempt, request.step);
    if (stale) return stale;
    if (request.step !== holder.committed.version)
      return refused(
        `unit ${request.unit} is at version ${holder.committed.version}, not at step ${request.step}`,
      );
    if (!Number.isFinite(request.lossSum)) return refused(`its loss is ${request.lossSum}`, true);
    let checked;
    try {
      checked = checkedShardMessage(holder.unit.layouts, payload, {
        jobId: request.jobId,
        step: request.step,
        shard: request.shard,
        kind: shardMessageKind(job.spec),
        partition: request.unit,
      });
    } catch (err) {
      if (err instanceof ShardMessageError) return refused(err.message, true);
      throw err;
    }
    const { shard, lossSum, count, correct, workerId } = request;
    const contribution = { gradientSum: checked.params, batchStats: checked.state, count, lossSum, correct };
    if (!holder.add(shard, contribution)) return OK; // a straggler's second copy: the first counts
    if (!job.shards.has(shard)) job.shards.set(shard, { shard, lossSum, count, correct, workerId });
    if (!job.reported && [...job.held.values()].every((h) => h.complete))
      await this.report(request.jobId, job, request.step);
    return OK;
  }

  private async pull(request: PullRequest): Promise<Answer> {
    const job = this.jobs.get(request.jobId);
    const holder = job?.held.get(request.unit);
    if (!job || !holder)
      return refused(`service ${this.options.id} does not hold unit ${request.unit} of job ${request.jobId}`);
    const stale = await this.align(request.jobId, job, holder, request.attempt, request.version);
    if (stale) return stale;
    const message = holder.message(request.version);
    if (!message)
      return refused(
        `unit ${request.unit} holds version ${holder.committed.version}, not ${request.version}`,
      );
    return { response: { ok: true }, payload: message };
  }

  /**
   * Brings a unit to the attempt of a request for step (or version) `version`. The same attempt
   * goes on, and a push of the next step commits the tentative version (the announcement may come
   * later). A higher attempt is a step redone: the unit starts it again from its committed version,
   * or, after a rollback, from the durable version the coordinator went back to. A lower attempt is
   * stale: refused. A unit being rebased answers once it is done.
   */
  private async align(
    jobId: string,
    job: ServedJob,
    holder: UnitHolder,
    attempt: number,
    version: number,
  ): Promise<Answer | null> {
    await this.rebasing.get(holder);
    if (attempt < holder.attempt) return refused(`attempt ${attempt} was superseded by ${holder.attempt}`);
    if (attempt === holder.attempt) {
      if (holder.tentative?.version === version) this.committed(jobId, version);
      return null;
    }
    holder.attempt = attempt;
    if (attempt > job.attempt) {
      job.attempt = attempt;
      this.forgetStep(job);
    }
    if (holder.committed.version === version) {
      holder.restart();
      return null;
    }
    const rebased = this.store
      .restore(jobId, holder.unit.index, job.units.length, version)
      .then((durable) => holder.rebase(durable));
    this.rebasing.set(holder, rebased);
    try {
      await rebased;
    } finally {
      this.rebasing.delete(holder);
    }
    this.log(`unit ${holder.unit.index} of job ${jobId} went back to durable version ${version}`);
    return null;
  }

  /** Every unit held has every shard: update them and tell the coordinator. */
  private async report(jobId: string, job: ServedJob, step: number): Promise<void> {
    job.reported = true;
    const lr = lrAt(scheduleOf(job.spec), step);
    const units: UnitCommit[] = [];
    let finite = true;
    for (const holder of job.held.values()) {
      finite = holder.update(lr, job.spec.optimizer) && finite;
      units.push({ unit: holder.unit.index, epoch: holder.epoch, hash: xxh3Hex(holder.tentative!.message) });
    }
    await this.store.pushReport(jobId, {
      serviceId: this.options.id,
      step,
      attempt: job.attempt,
      finite,
      units: units.sort((a, b) => a.unit - b.unit),
      shards: [...job.shards.values()].sort((a, b) => a.shard - b.shard),
    });
  }

  /** A new step begins: its shards and report are yet to come. */
  private forgetStep(job: ServedJob): void {
    job.shards.clear();
    job.reported = false;
  }

  private writeDurable(jobId: string, job: ServedJob, holder: UnitHolder): void {
    const key = `${jobId}/${holder.unit.index}`;
    const state = holder.durable();
    const previous = this.durableWrites.get(key) ?? Promise.resolve();
    const write = previous
      .then(async () => {
        const written = await this.store.writeDurable(
          jobId,
          holder.unit.index,
          job.units.length,
          `${this.options.id} ${holder.epoch}`,
          state,
        );
        if (!written)
          this.log(
            `unit ${holder.unit.index} of job ${jobId}: lease lost, version ${state.version} not written`,
          );
      })
      .catch((err: Error) =>
        this.log(`unit ${holder.unit.index} of job ${jobId}: durable write failed: ${err.message}`),
      );
    this.durableWrites.set(key, write);
  }
}
