import * as os from 'node:os';
import * as path from 'node:path';
import pino, { Logger } from 'pino';
import { ComputeBackend, initComputeBackend } from '@resnet/engine';
import { shardQueueFor, VersionAnnouncement } from '@resnet/protocol';
import { BlobStore } from '@resnet/redis-blobs';
import { RedisClient, RedisConnections } from '@resnet/redis-connections';
import { UnitClient } from '@resnet/unit-transport';
import { GradientUploader } from './gradient-uploader';
import { ServiceFailures } from './service-failures';
import { ServiceUnits } from './service-units';
import { entryName, ShardJobHandler } from './shard-job.handler';
import { ShardHandler, ShardProcessor } from './shard-processor';
import { ShardQueueWorker } from './shard-queue-worker';
import { SimulatedShardProcessor } from './simulated-shard-processor';
import { WeightsPrefetcher } from './weights-prefetcher';
import { WorkerOptions } from './worker-options';
import { WorkerRepository } from './worker.repository';

const HEARTBEAT_MS = 5000;

/** The exit code of a worker that leaves because the coordinator quarantined it. */
export const QUARANTINED_EXIT_CODE = 3;

/** What start() opens and stop() closes. */
interface Running {
  readonly redis: RedisClient;
  readonly announcements: RedisClient;
  readonly blobs: BlobStore;
  /** Connections to the summation services of jobs that train on them. */
  readonly unitClient: UnitClient;
  readonly repo: WorkerRepository;
  /** One per precision the worker computes: a job's shards are on its precision's queue only. */
  readonly queues: readonly ShardQueueWorker[];
  readonly beat: NodeJS.Timeout;
}

/**
 * One worker: loads its compute backend, joins the cluster's Redis, takes shards from the queue
 * until stopped, and beats its heart meanwhile. `exited` resolves with the process's exit code once
 * it has left, whether stop() was called or the coordinator quarantined it.
 */
export class WorkerProcess {
  readonly id: string;
  readonly log: Logger;
  readonly exited: Promise<number>;
  private exit!: (code: number) => void;
  private running: Running | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.name ?? `${os.hostname()}-${process.pid}`;
    this.log = pino({ base: { worker: this.id }, level: process.env.LOG_LEVEL ?? 'info' });
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  async start(): Promise<void> {
    const { options, log } = this;
    // Before the backend loads: a wrong REDIS_URL or prefix is reported at once.
    const connections = RedisConnections.fromUrl(options.redis, options.prefix);
    const compute = await this.computeBackend();
    log.info(
      {
        backend: compute.backend,
        device: compute.device,
        adapter: compute.adapter,
        precisions: compute.precisions,
      },
      'compute backend ready',
    );
    if (compute.bf16Unavailable)
      log.info(
        { reason: compute.bf16Unavailable },
        'no native bf16: this worker takes no shard of a bf16 job',
      );
    await connections.checkKind();
    const redis = this.watched(connections.client());
    const keys = connections.keys();
    const blobs = connections.blobs();
    const repo = new WorkerRepository(redis, blobs, keys);
    const unitClient = new UnitClient();
    const units = new ServiceUnits(unitClient);
    const weights = new WeightsPrefetcher(repo, units);
    // Subscribed connections take no other commands, hence a second connection.
    const announcements = connections.client();
    announcements.on('error', () => undefined); // outages are reported by the main connection
    announcements.on('message', (_channel, message) =>
      weights.announced(JSON.parse(message) as VersionAnnouncement),
    );
    await announcements.subscribe(keys.versionChannel());
    const handler = new ShardJobHandler(
      {
        id: this.id,
        host: os.hostname(),
        pid: process.pid,
        backend: compute.backend,
        device: compute.device,
        adapter: compute.adapter,
        precisions: compute.precisions,
        startedAt: Date.now(),
      },
      repo,
      this.processor(repo, weights, new GradientUploader(repo, keys, units)),
      log,
      (reason) => void this.stop(reason, QUARANTINED_EXIT_CODE),
    );
    // One shard at a time, whichever precision's queue it came from: compute blocks the event loop,
    // and the shard lock must outlast one shard, not two.
    let computing: Promise<unknown> = Promise.resolve();
    const oneAtATime = <T>(run: () => Promise<T>): Promise<T> => {
      const next = computing.then(run, run);
      computing = next.catch(() => undefined);
      return next;
    };
    const queues = compute.precisions.map((precision) => {
      const queue = new ShardQueueWorker(
        shardQueueFor(precision),
        (job) => oneAtATime(() => handler.handle(job)),
        {
          connection: redis,
          prefix: connections.prefix,
          concurrency: 1,
          // Compute blocks the event loop, so the lock is renewed only between shards: it must outlast
          // the slowest shard. A worker that dies loses its shard to another once the lock expires.
          lockDuration: options.lockMs,
          stalledInterval: options.lockMs / 2,
          // A stalled shard is a crashed or frozen worker, never a fault of the shard: re-queue it however often.
          maxStalledCount: Number.MAX_SAFE_INTEGER,
        },
      );
      queue.on('failed', (job, err) =>
        log.error({ shard: job && entryName(job), err: err.message }, 'shard failed'),
      );
      queue.on('error', (err) => log.error({ err: err.message }, 'worker error'));
      return queue;
    });
    await repo.heartbeat(handler.info());
    const beat = setInterval(
      () => repo.heartbeat(handler.info()).catch((err: Error) => log.warn({ err: err.message }, 'heartbeat')),
      HEARTBEAT_MS,
    );
    this.running = { redis, announcements, blobs, unitClient, repo, queues, beat };
    log.info({ redis: connections.redactedUrl, prefix: connections.prefix }, 'worker joined');
  }

  /** Finishes the shard in hand, leaves the cluster and closes every connection; `exited` then resolves with `code`. */
  stop(reason: string, code = 0): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, 'finishing the current shard, then leaving');
      const running = this.running;
      if (running) {
        clearInterval(running.beat);
        await Promise.all(running.queues.map((queue) => queue.close()));
        await running.repo.leave(this.id);
        running.announcements.disconnect();
        running.unitClient.close();
        running.blobs.close();
        running.redis.disconnect();
      }
      this.exit(code);
    })();
    return this.stopping;
  }

  private async computeBackend(): Promise<
    Pick<ComputeBackend, 'backend' | 'device' | 'adapter' | 'precisions' | 'bf16Unavailable'>
  > {
    const { options } = this;
    if (options.simulateComputeMs !== undefined)
      return {
        backend: 'simulated',
        device: `sleeps ${options.simulateComputeMs} ms per shard`,
        adapter: undefined,
        precisions: ['fp32'],
        bf16Unavailable: 'a simulated worker computes nothing',
      };
    return initComputeBackend(options.backend, options.device, {
      threads: options.threads,
      allowFallbackAdapter: options.allowFallbackAdapter,
      hideBf16: options.diagnosticHideBf16,
    });
  }

  private processor(
    repo: WorkerRepository,
    weights: WeightsPrefetcher,
    uploader: GradientUploader,
  ): ShardHandler {
    const { options } = this;
    return new ServiceFailures(
      options.simulateComputeMs === undefined
        ? new ShardProcessor(repo, weights, uploader, path.resolve(options.dataRoot), this.id)
        : new SimulatedShardProcessor(repo, weights, uploader, this.id, options.simulateComputeMs),
      this.id,
    );
  }

  /** The connection, with each outage logged once (ioredis reconnects with backoff). */
  private watched(redis: RedisClient): RedisClient {
    let down = false;
    redis.on('error', (err) => {
      if (!down) this.log.warn({ err: err.message }, 'Redis connection lost; reconnecting');
      down = true;
    });
    redis.on('ready', () => {
      if (down) this.log.info('Redis reconnected');
      down = false;
    });
    return redis;
  }
}
