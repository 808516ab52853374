import * as path from 'node:path';
import {
  DEFAULT_COORDINATOR_HOST,
  DEFAULT_COORDINATOR_PORT,
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_URL,
} from '@resnet/protocol';

/** Settings from the environment, read once at start-up. */
export interface CoordinatorConfig {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** Dataset paths in job requests are relative to this folder and cannot leave it. */
  readonly dataRoot: string;
  /** pino level of the coordinator's logs (default info; HTTP requests that succeed log at debug). */
  readonly logLevel?: LogLevel;
  /** `pretty`: human lines for a terminal; `json`: one JSON object a line (default: pretty on a TTY). */
  readonly logFormat?: LogFormat;
  /** Where jobs' checkpoints are written (one folder per job, one per checkpointed step). */
  readonly checkpointDir: string;
  /** When set, mutating endpoints require `Authorization: Bearer <token>`. */
  readonly apiToken: string | null;
}

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
  return {
    port,
    host: env.HOST ?? DEFAULT_COORDINATOR_HOST,
    redisUrl: env.REDIS_URL ?? DEFAULT_REDIS_URL,
    redisPrefix: env.REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX,
    dataRoot: path.resolve(env.DATA_ROOT ?? 'data'),
    logLevel,
    logFormat,
    checkpointDir: path.resolve(env.CHECKPOINT_DIR ?? 'checkpoints'),
    apiToken: env.API_TOKEN || null,
  };
}
