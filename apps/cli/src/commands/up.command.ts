import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_COORDINATOR_PORT, DEFAULT_REDIS_URL, redact } from '@resnet/protocol';
import {
  AppEntries,
  EmbeddedRedis,
  EmbeddedRedisCluster,
  LocalCluster,
  redisAnswers,
  redisServerOnPath,
} from '@resnet/local-cluster';
import { CoordinatorClient, CreateJobRequest } from '../coordinator-client';
import { followJob } from '../job-follower';

/** The coordinator's and worker's entry points, beside the CLI's in the build (dist/apps/cli/src/commands → dist/apps). */
const APP_ENTRIES: AppEntries = {
  coordinator: path.resolve(__dirname, '../../../coordinator/src/main.js'),
  worker: path.resolve(__dirname, '../../../worker/src/main.js'),
};

interface UpOptions {
  workers: string;
  data?: string;
  epochs: string;
  job: boolean;
  exitWhenDone: boolean;
  json: boolean;
  redisCluster?: string;
}

/** One worker per core: a worker computes on one thread, so more would only contend. */
function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * The Redis at REDIS_URL, or a private one when nothing answers there: a redis-server, or a Redis
 * Cluster of `clusterMasters` masters.
 */
async function redisForUp(
  redisUrl: string,
  clusterMasters: number | undefined,
): Promise<EmbeddedRedis | EmbeddedRedisCluster | null> {
  if (await redisAnswers(redisUrl)) return null;
  if (!redisServerOnPath()) {
    throw new Error(
      `nothing answers at REDIS_URL=${redact(redisUrl)} and redis-server is not installed: ` +
        'start Redis (apt-get install redis-server, or docker compose up redis) or set REDIS_URL',
    );
  }
  const embedded =
    clusterMasters === undefined
      ? await EmbeddedRedis.start()
      : await EmbeddedRedisCluster.start({ masters: clusterMasters });
  const what = clusterMasters === undefined ? 'redis-server' : `Redis Cluster of ${clusterMasters} masters`;
  console.log(
    `no Redis at ${redact(redisUrl)}: started a private ${what} at ${embedded.url} ` +
      '(its jobs go with it at Ctrl-C; point REDIS_URL at a Redis of your own to keep them)',
  );
  return embedded;
}

/** The job `up` submits: synthetic data unless --data, on every local worker. */
export function upJobRequest(opts: Pick<UpOptions, 'data' | 'epochs' | 'workers'>): CreateJobRequest {
  return {
    epochs: Number(opts.epochs),
    dataset: opts.data ? { kind: 'folder', path: opts.data } : { kind: 'synthetic' },
    batchSize: opts.data ? 128 : 64,
    shardsPerStep: Math.max(2, Number(opts.workers)),
    schedule: { decay: 'cosine', warmupEpochs: Number(opts.epochs) / 10 },
  };
}

export function upCommand(): Command {
  return new Command('up')
    .description(
      'Start a coordinator and local workers (and a private Redis if none answers), then run a job',
    )
    .addOption(
      new Option('--workers <n>', 'local worker processes').default(
        String(defaultWorkerCount()),
        `one per core: ${defaultWorkerCount()}`,
      ),
    )
    .option('--data <path>', 'dataset folder or .tar.gz under DATA_ROOT (default: built-in synthetic data)')
    .option('--epochs <n>', 'epochs for the job', '3')
    .option('--no-job', 'start the cluster without submitting a job')
    .option('--exit-when-done', 'stop everything once the job ends')
    .option('--json', 'JSON logs, HTTP requests and every worker shard included (LOG_LEVEL still applies)')
    .option(
      '--redis-cluster <masters>',
      'when nothing answers at REDIS_URL, start a private Redis Cluster of this many masters instead of one redis-server',
    )
    .action(async (opts: UpOptions) => {
      const env = process.env;
      const clusterMasters = opts.redisCluster === undefined ? undefined : Number(opts.redisCluster);
      const embedded = await redisForUp(env.REDIS_URL || DEFAULT_REDIS_URL, clusterMasters);
      // The console shows steps and warnings; --json or LOG_LEVEL bring back the traffic.
      const cluster = await LocalCluster.start({
        entries: APP_ENTRIES,
        workers: Number(opts.workers),
        workerNamePrefix: `${os.hostname()}-local`,
        redisUrl: embedded?.url ?? (env.REDIS_URL || DEFAULT_REDIS_URL),
        prefix: env.REDIS_PREFIX,
        port: Number(env.PORT ?? DEFAULT_COORDINATOR_PORT),
        stdio: 'inherit',
        coordinatorEnv: opts.json ? { LOG_FORMAT: 'json', LOG_LEVEL: env.LOG_LEVEL ?? 'debug' } : {},
        workerEnv: { LOG_LEVEL: env.LOG_LEVEL ?? (opts.json ? 'info' : 'warn') },
      }).catch(async (err: Error) => {
        await embedded?.destroy();
        throw err;
      });
      const { url } = cluster;
      console.log(`coordinator and dashboard at ${url} with ${opts.workers} local worker(s)`);
      let stopping: Promise<void> | null = null;
      const shutdown = (): Promise<void> =>
        (stopping ??= (async () => {
          await cluster.stop();
          await embedded?.destroy();
          process.exit(0);
        })());
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
      // A terminal's Ctrl-C stops the coordinator too: the requests under way then fail, which is
      // no error of their own; the shutdown ends the process once everything has stopped.
      const unlessStopping = async (err: Error): Promise<never> => {
        if (stopping) await stopping;
        throw err;
      };
      if (!opts.job) return;
      const body = upJobRequest(opts);
      const client = new CoordinatorClient({ url, token: env.API_TOKEN || undefined });
      const job = await client.submit(body).catch(unlessStopping);
      console.log(
        `submitted job ${job.id}: ${job.name}, ${job.totalSteps} steps; dashboard ${url}/#job=${job.id}`,
      );
      const final = await followJob(client, job.id).catch(unlessStopping);
      if (opts.exitWhenDone) {
        await shutdown();
      } else {
        console.log(`job ${final.status}; the cluster keeps running at ${url} — Ctrl-C to stop`);
      }
    });
}
