import { Inject, Injectable, Logger, MessageEvent } from '@nestjs/common';
import {
  concatMap,
  defer,
  distinctUntilChanged,
  exhaustMap,
  from,
  map,
  merge,
  Observable,
  ReplaySubject,
  share,
  timer,
} from 'rxjs';
import { JobStatus, Precision, WorkerView } from '@resnet/protocol';
import { JobView, precisionOf } from '@resnet/job';
import { RedisClient } from '@resnet/redis-connections';
import { DatasetPreparations, DatasetPreparationView } from '../jobs/dataset-preparations';
import { JobsService } from '../jobs/jobs.service';
import { readWhileRedisAnswers } from '../repositories/redis-availability';
import { REDIS } from '../repositories/redis.providers';
import { StepMetricsReader } from '../repositories/step-metrics.reader';
import { WorkersService } from '../workers/workers.service';

const TICK_MS = 1000;
/** Steps whose wall-clock spacing estimates a job's remaining time (evaluations included). */
const ETA_WINDOW = 10;

/** What the jobs table shows of a job's steps, kept while its step stays the same. */
interface RecentSteps {
  readonly step: number;
  /** Step records counted so far, and their images and milliseconds. */
  readonly totals: { readonly records: number; readonly images: number; readonly ms: number };
  readonly loss: number | null;
  readonly imagesPerSecond: number | null;
  readonly msPerStep: number | null;
}

/** One row of the dashboard's jobs table. */
export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly status: JobStatus;
  readonly error?: string;
  readonly priority: number;
  /** While queued: 1 for the job that starts next. */
  readonly queuePosition?: number;
  /** See JobView.workersUnavailable. */
  readonly workersUnavailable?: string;
  readonly model: string;
  readonly dataset: string;
  readonly batchSize: number;
  readonly shardsPerStep: number;
  /** Local SGD's steps per round; 1 for synchronous SGD. */
  readonly localSteps: number;
  /** What the workers compute in: fp32 or bf16. */
  readonly precision: Precision;
  readonly lr: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly progress: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** From the last committed step; null before the first. */
  readonly loss: number | null;
  /** Over the run's steps so far (evaluations aside); null before the first. */
  readonly imagesPerSecond: number | null;
  /** Running jobs only. */
  readonly etaSeconds: number | null;
}

interface Snapshot {
  readonly jobs: JobSummary[] | null;
  /** Datasets being decoded for jobs about to be submitted. */
  readonly preparing: DatasetPreparationView[];
  readonly workers: WorkerView[] | null;
  /** Why the snapshot is missing, for the dashboard's banner; null when all is well. */
  readonly problem: string | null;
}

/**
 * The dashboard's live feed. One shared poll of Redis per second builds the jobs and workers
 * snapshot for every open dashboard; each connection gets an event only when its part changed,
 * and, for the job it shows, the metric entries it has not seen yet.
 */
@Injectable()
export class DashboardEventsService {
  private readonly logger = new Logger(DashboardEventsService.name);
  /** Metrics-derived columns of jobs whose step has not moved since the last tick. */
  private readonly summaryCache = new Map<string, RecentSteps>();
  private lastProblem: string | null = null;

  private readonly snapshots$: Observable<Snapshot> = timer(0, TICK_MS).pipe(
    exhaustMap(() => this.snapshot()),
    // New connections get the latest snapshot at once; the poll stops when the last one closes.
    share({ connector: () => new ReplaySubject<Snapshot>(1), resetOnRefCountZero: true }),
  );

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly jobs: JobsService,
    private readonly workers: WorkersService,
    private readonly metrics: StepMetricsReader,
    private readonly preparations: DatasetPreparations,
  ) {}

  /** Events for one dashboard connection; `jobId` selects the job whose metrics it follows. */
  stream(jobId?: string): Observable<MessageEvent> {
    const changes = <T>(type: string, pick: (s: Snapshot) => T | null) =>
      this.snapshots$.pipe(
        map(pick),
        distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
        concatMap((data) => (data === null ? [] : [{ type, data: data as object }])),
      );
    const problems = this.snapshots$.pipe(
      map((s) => s.problem),
      distinctUntilChanged(),
      map((message) => ({ type: 'problem', data: { message } })),
    );
    const streams: Observable<MessageEvent>[] = [
      changes('jobs', (s) => s.jobs),
      changes('workers', (s) => s.workers),
      problems,
      changes('preparing', (s) => s.preparing),
    ];
    if (jobId) streams.push(this.jobMetrics(jobId));
    return merge(...streams);
  }

  /** The job's metric entries as they are committed: everything first, then only what is new. */
  private jobMetrics(jobId: string): Observable<MessageEvent> {
    let stepsSeen = 0;
    let evalsSeen = 0;
    return this.snapshots$.pipe(
      concatMap((s) =>
        defer(async () => {
          if (!s.jobs?.some((j) => j.id === jobId)) return [];
          const fresh = await readWhileRedisAnswers(this.redis, () =>
            this.metrics.since(jobId, stepsSeen, evalsSeen),
          ).catch(() => null);
          if (!fresh || (stepsSeen + evalsSeen > 0 && fresh.steps.length + fresh.evals.length === 0))
            return [];
          const event = { type: 'metrics', data: { jobId, reset: stepsSeen + evalsSeen === 0, ...fresh } };
          stepsSeen += fresh.steps.length;
          evalsSeen += fresh.evals.length;
          return [event];
        }),
      ),
      concatMap((events) => from(events)),
    );
  }

  private async snapshot(): Promise<Snapshot> {
    try {
      const [jobs, workers] = await readWhileRedisAnswers(
        this.redis,
        () => Promise.all([this.jobs.list(), this.workers.list()]),
        3000,
      );
      const summaries = await Promise.all(jobs.map((j) => this.summarise(j)));
      if (this.lastProblem) this.logger.log('dashboard feed recovered');
      this.lastProblem = null;
      return { jobs: summaries, workers, preparing: this.preparations.list(), problem: null };
    } catch (err) {
      const problem = `the coordinator cannot read the cluster state: ${(err as Error).message}`;
      if (problem !== this.lastProblem) this.logger.warn(problem); // once per outage, not once per second
      this.lastProblem = problem;
      return { jobs: null, workers: null, preparing: this.preparations.list(), problem };
    }
  }

  private async summarise(job: JobView): Promise<JobSummary> {
    const { spec } = job;
    let recent = this.summaryCache.get(job.id);
    if (recent?.step !== job.step) {
      const steps = job.step === 0 ? [] : await this.metrics.lastSteps(job.id, ETA_WINDOW);
      const last = steps.at(-1);
      // Only the entries not yet counted: a long run's history is read once, not every tick.
      const totals = { records: 0, images: 0, ms: 0, ...recent?.totals };
      for (const m of job.step === 0 ? [] : await this.metrics.stepsSince(job.id, totals.records)) {
        totals.records++;
        totals.images += (m.imagesPerSecond * m.stepMs) / 1000;
        totals.ms += m.stepMs;
      }
      recent = {
        step: job.step,
        totals,
        loss: last?.loss ?? null,
        imagesPerSecond: totals.ms > 0 ? (totals.images * 1000) / totals.ms : null,
        // Per global step: with local SGD a record covers a round of several; a lone record covers them all.
        msPerStep:
          steps.length >= 2
            ? (steps[steps.length - 1].at - steps[0].at) / (steps[steps.length - 1].step - steps[0].step)
            : last
              ? last.stepMs / last.step
              : null,
      };
      this.summaryCache.set(job.id, recent);
    }
    const dataset =
      spec.dataset.kind !== 'synthetic'
        ? spec.dataset.path
        : `synthetic ${spec.dataset.imageSize}×${spec.dataset.imageSize}, ${spec.dataset.numClasses} classes`;
    return {
      id: job.id,
      name: job.name,
      status: job.status,
      ...(job.error ? { error: job.error } : {}),
      priority: job.priority,
      ...(job.queuePosition === undefined ? {} : { queuePosition: job.queuePosition }),
      ...(job.workersUnavailable ? { workersUnavailable: job.workersUnavailable } : {}),
      model: spec.model,
      dataset,
      batchSize: spec.batchSize,
      shardsPerStep: spec.shardsPerStep,
      localSteps: spec.localSteps,
      precision: precisionOf(spec),
      lr: spec.schedule.lr,
      step: job.step,
      totalSteps: job.totalSteps,
      epoch: job.epoch,
      epochs: spec.totalSteps / spec.stepsPerEpoch,
      progress: job.progress,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      loss: recent.loss,
      imagesPerSecond: recent.imagesPerSecond,
      etaSeconds:
        job.status === 'running' && recent.msPerStep !== null
          ? ((job.totalSteps - job.step) * recent.msPerStep) / 1000
          : null,
    };
  }
}
