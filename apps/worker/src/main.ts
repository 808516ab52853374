import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { Job, UnrecoverableError } from 'bullmq';
import pino from 'pino';
import { BACKEND_CHOICES, initComputeBackend } from '@resnet/engine';
import {
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_URL,
  SHARD_QUEUE,
  ShardOutcome,
  ShardTask,
  shardTaskId,
  shardTaskProblem,
  VersionAnnouncement,
  WorkerInfo,
} from '@resnet/protocol';
import { RedisConnections } from '@resnet/redis-connections';
import { UnitClient } from '@resnet/unit-transport';
import { GradientUploader } from './gradient-uploader';
import { ServiceFailures } from './service-failures';
import { ServiceUnits } from './service-units';
import { ShardHandler, ShardProcessor } from './shard-processor';
import { ShardQueueWorker } from './shard-queue-worker';
import { SimulatedShardProcessor } from './simulated-shard-processor';
import { WeightsPrefetcher } from './weights-prefetcher';
import { WORKER_DEFAULTS, WorkerOptions } from './worker-options';
import { WorkerRepository } from './worker.repository';

const HEARTBEAT_MS = 5000;

async function main(options: WorkerOptions): Promise<void> {
  const id = options.name ?? `${os.hostname()}-${process.pid}`;
  const log = pino({ base: { worker: id }, level: process.env.LOG_LEVEL ?? 'info' });
  // Before the backend loads: a wrong REDIS_URL or prefix is reported at once.
  const connections = RedisConnections.fromUrl(options.redis, options.prefix);
  const simulatedMs = options.simulateComputeMs === undefined ? null : Number(options.simulateComputeMs);
  const compute =
    simulatedMs === null
      ? await initComputeBackend(options.backend, options.device, {
          threads: Number(options.threads),
          allowFallbackAdapter: options.allowFallbackAdapter,
        })
      : { backend: 'simulated', device: `sleeps ${simulatedMs} ms per shard`, adapter: undefined };
  log.info(
    { backend: compute.backend, device: compute.device, adapter: compute.adapter },
    'compute backend ready',
  );

  await connections.checkKind();
  const redis = connections.client();
  let redisDown = false; // ioredis reconnects with backoff; log each outage once
  redis.on('error', (err) => {
    if (!redisDown) log.warn({ err: err.message }, 'Redis connection lost; reconnecting');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) log.info('Redis reconnected');
    redisDown = false;
  });
  const keys = connections.keys();
  const blobs = connections.blobs();
  const repo = new WorkerRepository(redis, blobs, keys);
  const unitClient = new UnitClient();
  const units = new ServiceUnits(unitClient);
  const weights = new WeightsPrefetcher(repo, units);
  const uploader = new GradientUploader(repo, keys, units);
  const processor: ShardHandler = new ServiceFailures(
    simulatedMs === null
      ? new ShardProcessor(repo, weights, uploader, path.resolve(options.dataRoot), id)
      : new SimulatedShardProcessor(repo, weights, uploader, id, simulatedMs),
    id,
  );
  // Subscribed connections take no other commands, hence a second connection.
  const announcements = connections.client();
  announcements.on('error', () => undefined); // outages are reported by the main connection
  announcements.on('message', (_channel, message) =>
    weights.announced(JSON.parse(message) as VersionAnnouncement),
  );
  await announcements.subscribe(keys.versionChannel());
  const startedAt = Date.now();
  let imagesPerSecond: number | null = null;
  let currentShard: string | null = null;
  const info = (): WorkerInfo => ({
    id,
    host: os.hostname(),
    pid: process.pid,
    backend: compute.backend,
    device: compute.device,
    adapter: compute.adapter,
    imagesPerSecond,
    currentShard,
    startedAt,
    lastSeen: Date.now(),
  });

  let shutdown: (reason: string, code?: number) => Promise<void> = async () => undefined;
  const worker = new ShardQueueWorker(
    SHARD_QUEUE,
    async (job) => {
      const problem = shardTaskProblem(job.data);
      // Retrying an entry that is not a shard task cannot help.
      if (problem) throw new UnrecoverableError(`shard queue entry ${job.id} ${problem}; it is not retried`);
      currentShard = shardTaskId(job.data);
      // One round trip for both: every round trip here delays the step.
      const [quarantined] = await Promise.all([repo.isQuarantined(id), repo.heartbeat(info())]);
      if (quarantined) {
        currentShard = null;
        void shutdown(
          'quarantined by the coordinator after repeated rejected results; check this host, then release it (`npm run cli -- workers release <id>`) and restart it',
          3,
        );
        throw new Error(`worker ${id} is quarantined`);
      }
      try {
        const outcome = await processor.process(job.data);
        if (job.data.kind === 'train') imagesPerSecond = (outcome.count * 1000) / outcome.computeMs;
        currentShard = null;
        // Reported with every result too, so short jobs show their speed without waiting for a beat;
        // not awaited, so that it travels with BullMQ's completion of the shard instead of before it.
        repo.heartbeat(info()).catch((err: Error) => log.warn({ err: err.message }, 'heartbeat'));
        log.info(
          { job: job.data.jobId, shard: shardTaskId(job.data), ms: Math.round(outcome.computeMs) },
          'shard done',
        );
        return outcome;
      } finally {
        currentShard = null;
      }
    },
    {
      connection: redis,
      prefix: connections.prefix,
      concurrency: 1,
      // Compute blocks the event loop, so the lock is renewed only between shards: it must outlast
      // the slowest shard. A worker that dies loses its shard to another once the lock expires.
      lockDuration: Number(options.lockMs),
      stalledInterval: Number(options.lockMs) / 2,
      // A stalled shard is a crashed or frozen worker, never a fault of the shard: re-queue it however often.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    },
  );
  worker.on('failed', (job, err) =>
    log.error({ shard: job && entryName(job), err: err.message }, 'shard failed'),
  );
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));

  await repo.heartbeat(info());
  const beat = setInterval(
    () => repo.heartbeat(info()).catch((err) => log.warn({ err: err.message }, 'heartbeat')),
    HEARTBEAT_MS,
  );
  log.info({ redis: connections.redactedUrl, prefix: connections.prefix }, 'worker joined');

  shutdown = async (reason: string, code = 0): Promise<void> => {
    log.info({ reason }, 'finishing the current shard, then leaving');
    clearInterval(beat);
    await worker.close();
    await repo.leave(id);
    announcements.disconnect();
    unitClient.close();
    blobs.close();
    redis.disconnect();
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** A shard queue entry's name in logs: its shard's id, or BullMQ's id for an entry that is no shard task. */
function entryName(job: Job<ShardTask, ShardOutcome>): string | undefined {
  return shardTaskProblem(job.data) ? job.id : shardTaskId(job.data);
}

const program = new Command('worker')
  .description('Join a training cluster: compute ResNet gradients for shard jobs from the Redis queue')
  .option(
    '--redis <url>',
    'Redis URL shared with the coordinator: redis://host:port, or redis+cluster://host:port,host:port for a Redis Cluster',
    process.env.REDIS_URL || DEFAULT_REDIS_URL,
  )
  .addOption(
    new Option('--backend <name>', 'TensorFlow.js backend')
      .choices(BACKEND_CHOICES)
      .default(WORKER_DEFAULTS.backend),
  )
  .addOption(
    new Option('--device <kind>', 'refuse to start unless the backend runs on this device')
      .choices(['cpu', 'gpu'])
      .default(WORKER_DEFAULTS.device),
  )
  .option(
    '--data-root <dir>',
    'folder that dataset paths are relative to',
    process.env.DATA_ROOT ?? WORKER_DEFAULTS.dataRoot,
  )
  .option(
    '--prefix <prefix>',
    `Redis key prefix shared with the coordinator (default ${DEFAULT_REDIS_PREFIX}; {${DEFAULT_REDIS_PREFIX}} on a Redis Cluster, where it needs a {hash tag})`,
    process.env.REDIS_PREFIX,
  )
  .option('--name <id>', 'worker id shown by GET /workers (default host-pid)')
  .option(
    '--allow-fallback-adapter',
    'let --backend webgpu run on a software adapter (SwiftShader: CPU emulation, for tests without a GPU)',
    WORKER_DEFAULTS.allowFallbackAdapter,
  )
  .option(
    '--threads <n>',
    'threads for the onednn backend (default 1: run one worker process per core)',
    WORKER_DEFAULTS.threads,
  )
  .option(
    '--lock-ms <ms>',
    "shard lock duration: longer than the slowest shard; a dead worker's shard moves on after it",
    WORKER_DEFAULTS.lockMs,
  )
  // For benchmarks of coordination: real weights and gradient traffic, no model (see SimulatedShardProcessor).
  .addOption(
    new Option('--simulate-compute-ms <ms>', 'sleep this long per shard instead of computing').hideHelp(),
  )
  .action((opts: WorkerOptions) =>
    main(opts).catch((err: Error) => {
      console.error(`worker failed to start: ${err.message}`);
      process.exit(1);
    }),
  );
program.parse();
