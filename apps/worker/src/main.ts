import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { BACKEND_CHOICES, BackendChoice, DeviceChoice, initComputeBackend } from '@resnet/engine';
import { RedisKeys, SHARD_QUEUE, ShardOutcome, ShardTask, shardTaskId, WorkerInfo } from '@resnet/protocol';
import { ShardProcessor } from './shard-processor';
import { WorkerRepository } from './worker.repository';

const HEARTBEAT_MS = 5000;
// A shard of ResNet-20 at batch 64 takes seconds on wasm; the lock must outlive the slowest shard
// between renewals, and a worker that dies loses its shard to another after stalledInterval.
const LOCK_DURATION_MS = 60_000;
const STALLED_INTERVAL_MS = 15_000;

interface WorkerOptions {
  redis: string;
  backend: BackendChoice;
  device: DeviceChoice;
  dataRoot: string;
  prefix: string;
  name?: string;
}

async function main(options: WorkerOptions): Promise<void> {
  const id = options.name ?? `${os.hostname()}-${process.pid}`;
  const log = pino({ base: { worker: id } });
  const compute = await initComputeBackend(options.backend, options.device);
  log.info({ backend: compute.backend, device: compute.device }, 'compute backend ready');

  const redis = new Redis(options.redis, { maxRetriesPerRequest: null });
  const keys = new RedisKeys(options.prefix);
  const repo = new WorkerRepository(redis, keys);
  const processor = new ShardProcessor(repo, keys, path.resolve(options.dataRoot), id);
  const startedAt = Date.now();
  let imagesPerSecond: number | null = null;
  let currentShard: string | null = null;
  const info = (): WorkerInfo => ({
    id,
    host: os.hostname(),
    pid: process.pid,
    backend: compute.backend,
    device: compute.device,
    imagesPerSecond,
    currentShard,
    startedAt,
    lastSeen: Date.now(),
  });

  const worker = new Worker<ShardTask, ShardOutcome>(
    SHARD_QUEUE,
    async (job) => {
      currentShard = shardTaskId(job.data);
      await repo.heartbeat(info());
      try {
        const outcome = await processor.process(job.data);
        if (job.data.kind === 'train') imagesPerSecond = (outcome.count * 1000) / outcome.computeMs;
        currentShard = null;
        // Reported with every result too, so short jobs show their speed without waiting for a beat.
        await repo.heartbeat(info());
        log.info({ job: job.data.jobId, shard: currentShard, ms: Math.round(outcome.computeMs) }, 'shard done');
        return outcome;
      } finally {
        currentShard = null;
      }
    },
    {
      connection: redis,
      prefix: options.prefix,
      concurrency: 1,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: 3,
    },
  );
  worker.on('failed', (job, err) => log.error({ shard: job && shardTaskId(job.data), err: err.message }, 'shard failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));

  await repo.heartbeat(info());
  const beat = setInterval(() => repo.heartbeat(info()).catch((err) => log.warn({ err: err.message }, 'heartbeat')), HEARTBEAT_MS);
  log.info({ redis: options.redis.replace(/\/\/[^@]*@/, '//***@') }, 'worker joined');

  const shutdown = async (signal: string): Promise<void> => {
    log.info({ signal }, 'finishing the current shard, then leaving');
    clearInterval(beat);
    await worker.close();
    await repo.leave(id);
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const program = new Command('worker')
  .description('Join a training cluster: compute ResNet gradients for shard jobs from the Redis queue')
  .option('--redis <url>', 'Redis URL shared with the coordinator', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto'))
  .addOption(new Option('--device <kind>', 'refuse to start unless the backend runs on this device').choices(['cpu', 'gpu']).default('cpu'))
  .option('--data-root <dir>', 'folder that dataset paths are relative to', process.env.DATA_ROOT ?? 'data')
  .option('--prefix <prefix>', 'Redis key prefix shared with the coordinator', process.env.REDIS_PREFIX ?? 'rc')
  .option('--name <id>', 'worker id shown by GET /workers (default host-pid)')
  .action((opts: WorkerOptions) =>
    main(opts).catch((err: Error) => {
      console.error(`worker failed to start: ${err.message}`);
      process.exit(1);
    }),
  );
program.parse();
