import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { startCoordinator } from '../../../coordinator/src/bootstrap';
import { configFromEnv } from '../../../coordinator/src/coordinator.config';
import { CoordinatorClient } from '../coordinator-client';
import { EmbeddedRedis, redisAnswers, redisServerOnPath } from '../embedded-redis';
import { followJob } from '../job-follower';
import { WorkerPool } from '../worker-pool';

interface UpOptions {
  workers: string;
  data?: string;
  epochs: string;
  job: boolean;
  exitWhenDone: boolean;
  json: boolean;
}

/** One worker per core: a worker computes on one thread, so more would only contend. */
function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

export function upCommand(): Command {
  return new Command('up')
    .description(
      'Start a coordinator and local workers (and a private Redis if none answers), then run a job',
    )
    .option('--workers <n>', 'local worker processes (default: one per core)', String(defaultWorkerCount()))
    .option('--data <path>', 'dataset folder or .tar.gz under DATA_ROOT (default: built-in synthetic data)')
    .option('--epochs <n>', 'epochs for the job', '3')
    .option('--no-job', 'start the cluster without submitting a job')
    .option('--exit-when-done', 'stop everything once the job ends')
    .option('--json', 'JSON logs, HTTP requests and every worker shard included (LOG_LEVEL still applies)')
    .action(async (opts: UpOptions) => {
      // The console shows steps and warnings; --json or LOG_LEVEL bring back the traffic.
      const env = process.env;
      const config = configFromEnv({
        ...env,
        ...(opts.json ? { LOG_FORMAT: 'json', LOG_LEVEL: env.LOG_LEVEL ?? 'debug' } : {}),
      });
      const workerLogLevel = env.LOG_LEVEL ?? (opts.json ? 'info' : 'warn');
      // Checkpoints build a LayersModel in this process; TF.js's banner about tfjs-node is no news here.
      tf.enableProdMode();
      let redisUrl = config.redisUrl;
      let embedded: EmbeddedRedis | null = null;
      if (!(await redisAnswers(redisUrl))) {
        if (!redisServerOnPath()) {
          throw new Error(
            `nothing answers at REDIS_URL=${redisUrl} and redis-server is not installed: ` +
              'start Redis (apt-get install redis-server, or docker compose up redis) or set REDIS_URL',
          );
        }
        embedded = await EmbeddedRedis.start();
        redisUrl = embedded.url;
        console.log(`no Redis at ${config.redisUrl}: started a private redis-server at ${redisUrl}`);
      }
      const app = await startCoordinator({ ...config, redisUrl });
      const url = await app.getUrl();
      const pool = new WorkerPool({
        redisUrl,
        prefix: config.redisPrefix,
        dataRoot: config.dataRoot,
        stdio: 'inherit',
        env: { LOG_LEVEL: workerLogLevel },
      });
      pool.startMany(Number(opts.workers), `${os.hostname()}-local`);
      console.log(`coordinator and dashboard at ${url} with ${opts.workers} local worker(s)`);
      const shutdown = async (): Promise<void> => {
        await pool.stopAll();
        await app.close();
        await embedded?.destroy();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
      if (!opts.job) return;
      const body = {
        epochs: Number(opts.epochs),
        dataset: opts.data ? { kind: 'folder', path: opts.data } : { kind: 'synthetic' },
        batchSize: opts.data ? 128 : 64,
        shardsPerStep: Math.max(2, Number(opts.workers)),
        schedule: { decay: 'cosine', warmupEpochs: Number(opts.epochs) / 10 },
      };
      const client = new CoordinatorClient({ url, token: config.apiToken ?? undefined });
      const job = await client.submit(body);
      console.log(
        `submitted job ${job.id}: ${job.name}, ${job.totalSteps} steps; dashboard ${url}/#job=${job.id}`,
      );
      const final = await followJob(client, job.id);
      if (opts.exitWhenDone) {
        await shutdown();
      } else {
        console.log(`job ${final.status}; the cluster keeps running at ${url} — Ctrl-C to stop`);
      }
    });
}
