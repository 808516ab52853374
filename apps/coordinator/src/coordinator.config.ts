import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_COORDINATOR_HOST,
  DEFAULT_COORDINATOR_PORT,
  DEFAULT_REDIS_URL,
  parseRedisAddress,
  redisPrefixFor,
} from '@resnet/protocol';

/** Settings from the environment (variable in brackets), read once at start-up by configFromEnv. */
export interface CoordinatorConfig {
  /**
   * HTTP port (PORT); 0 picks a free one.
   * @defaultValue DEFAULT_COORDINATOR_PORT, 3000
   */
  readonly port: number;
  /**
   * HTTP address (HOST); 0.0.0.0 serves other machines.
   * @defaultValue DEFAULT_COORDINATOR_HOST, 127.0.0.1
   */
  readonly host: string;
  /**
   * The Redis shared with the workers (REDIS_URL): redis://host:port for one Redis, or
   * redis+cluster://host:port,host:port for a Redis Cluster (see parseRedisAddress).
   * @defaultValue DEFAULT_REDIS_URL, redis://127.0.0.1:6379
   */
  readonly redisUrl: string;
  /**
   * Key and queue prefix (REDIS_PREFIX), for several clusters on one Redis; on a Redis Cluster it
   * must hold a hash tag (see redisPrefixFor).
   * @defaultValue DEFAULT_REDIS_PREFIX, rc; {rc} on a Redis Cluster
   */
  readonly redisPrefix: string;
  /**
   * Dataset paths in job requests are relative to this folder and cannot leave it (DATA_ROOT).
   * @defaultValue ./data
   */
  readonly dataRoot: string;
  /**
   * pino level of the coordinator's logs (LOG_LEVEL); HTTP requests that succeed log at debug.
   * @defaultValue info
   */
  readonly logLevel?: LogLevel;
  /**
   * `pretty`: human lines for a terminal; `json`: one JSON object a line (LOG_FORMAT).
   * @defaultValue pretty when stdout is a terminal, json otherwise
   */
  readonly logFormat?: LogFormat;
  /**
   * Where jobs' checkpoints are written, a folder per job and one per checkpointed step (CHECKPOINT_DIR).
   * @defaultValue ./checkpoints
   */
  readonly checkpointDir: string;
  /**
   * Trained models shipped with the project, a folder each (model.json, weights.bin), served at
   * /models/<name> (MODELS_DIR).
   * @defaultValue ./models
   */
  readonly modelsDir: string;
  /**
   * When set, mutating endpoints require `Authorization: Bearer <token>` (API_TOKEN).
   * @defaultValue null: no token needed
   */
  readonly apiToken: string | null;
  /**
   * Jobs that train at once (MAX_CONCURRENT_JOBS); later ones wait in the queue by priority.
   * @defaultValue 1
   */
  readonly maxConcurrentJobs: number;
  /**
   * Which of the coordinators on this Redis and prefix runs the training loops.
   * @defaultValue LEADERSHIP_DEFAULTS
   */
  readonly leadership: LeadershipOptions;
  /**
   * When rejected results quarantine a worker.
   * @defaultValue WORKER_FAULT_DEFAULTS
   */
  readonly workerFaults: WorkerFaultOptions;
  /**
   * A test hook (HOLD_COMMIT_AFTER_RECORD): the partitioned commit of this version stops for good
   * after its fenced record and before the per-partition moves, and says so in the log, so that a
   * test can kill the coordinator at the one moment a commit is half done (see JobRepository.commitStep).
   * @defaultValue null: commits never stop
   */
  readonly holdCommitAfterRecord: number | null;
}

/** How coordinators sharing one Redis and prefix choose the one that runs the training loops. */
export interface LeadershipOptions {
  /**
   * This coordinator's name in the lease, GET /health and the dashboard (COORDINATOR_ID); unique
   * per process, so that a restarted coordinator is never mistaken for its predecessor.
   * @defaultValue `<hostname>-<pid>`
   */
  readonly coordinatorId: string;
  /**
   * How long the leader's lease lasts unless renewed (LEADER_LEASE_MS), renewed every third of it:
   * when the leader dies, a follower takes over within this time.
   * @defaultValue 10000
   */
  readonly leaseMs: number;
}

export const LEADERSHIP_DEFAULTS: LeadershipOptions = {
  coordinatorId: `${os.hostname()}-${process.pid}`,
  leaseMs: 10_000,
};

/** When rejected results get a worker quarantined. Crashes never count: only results refused for their content. */
export interface WorkerFaultOptions {
  /**
   * Rejected results within `windowMs` that quarantine a worker (QUARANTINE_AFTER_REJECTED).
   * @defaultValue 3
   */
  readonly quarantineAfter: number;
  /**
   * Rejected results older than this are forgotten (FAULT_WINDOW_MS), so that rare incidents
   * never add up to a quarantine over a worker's life.
   * @defaultValue 3600000 (an hour)
   */
  readonly windowMs: number;
}

export const WORKER_FAULT_DEFAULTS: WorkerFaultOptions = { quarantineAfter: 3, windowMs: 3600_000 };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const COORDINATOR_CONFIG = Symbol('COORDINATOR_CONFIG');

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const port = Number(env.PORT ?? DEFAULT_COORDINATOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got "${env.PORT}"`);
  }
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const logFormat = (env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new Error(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got "${env.LOG_FORMAT}"`);
  }
  const redisUrl = env.REDIS_URL || DEFAULT_REDIS_URL;
  return {
    port,
    host: env.HOST ?? DEFAULT_COORDINATOR_HOST,
    redisUrl,
    redisPrefix: redisPrefixFor(parseRedisAddress(redisUrl), env.REDIS_PREFIX),
    dataRoot: path.resolve(env.DATA_ROOT ?? 'data'),
    logLevel,
    logFormat,
    checkpointDir: path.resolve(env.CHECKPOINT_DIR ?? 'checkpoints'),
    modelsDir: path.resolve(env.MODELS_DIR ?? 'models'),
    apiToken: env.API_TOKEN || null,
    maxConcurrentJobs: positiveInteger(env, 'MAX_CONCURRENT_JOBS', 1),
    leadership: {
      coordinatorId: env.COORDINATOR_ID || LEADERSHIP_DEFAULTS.coordinatorId,
      leaseMs: positiveInteger(env, 'LEADER_LEASE_MS', LEADERSHIP_DEFAULTS.leaseMs),
    },
    workerFaults: {
      quarantineAfter: positiveInteger(
        env,
        'QUARANTINE_AFTER_REJECTED',
        WORKER_FAULT_DEFAULTS.quarantineAfter,
      ),
      windowMs: positiveInteger(env, 'FAULT_WINDOW_MS', WORKER_FAULT_DEFAULTS.windowMs),
    },
    holdCommitAfterRecord: env.HOLD_COMMIT_AFTER_RECORD
      ? positiveInteger(env, 'HOLD_COMMIT_AFTER_RECORD', 1)
      : null,
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
