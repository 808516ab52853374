import * as os from 'node:os';
import { DEFAULT_SERVICE_PORT } from '@resnet/protocol';

/** The summation service's command-line options as commander hands them over (numbers as text). */
export interface AggregatorOptions {
  /**
   * Redis URL shared with the coordinator and workers (`--redis`).
   * @defaultValue REDIS_URL, else DEFAULT_REDIS_URL (redis://127.0.0.1:6379)
   */
  readonly redis: string;
  /**
   * Redis key prefix shared with the coordinator (`--prefix`).
   * @defaultValue REDIS_PREFIX, else DEFAULT_REDIS_PREFIX ('rc'), or '{rc}' on a Redis Cluster
   */
  readonly prefix?: string;
  /**
   * The service's id in the registry and in leases (`--name`).
   * @defaultValue `<host>-<pid>`
   */
  readonly name?: string;
  /**
   * Address to listen on (`--host`).
   * @defaultValue '0.0.0.0'
   */
  readonly host: string;
  /**
   * TCP port to listen on (`--port`); 0 takes any free port.
   * @defaultValue '7400'
   */
  readonly port: string;
  /**
   * The host workers dial (`--advertise`).
   * @defaultValue the hostname
   */
  readonly advertise: string;
  /**
   * Machine label (`--machine`): workers and services with the same label are colocated.
   * @defaultValue the hostname
   */
  readonly machine: string;
  /**
   * How long a unit lease lasts unless renewed, in ms (`--lease-ms`): a dead service's units move
   * to another after it.
   * @defaultValue '5000'
   */
  readonly leaseMs: string;
}

export const AGGREGATOR_DEFAULTS = {
  host: '0.0.0.0',
  port: String(DEFAULT_SERVICE_PORT),
  advertise: os.hostname(),
  machine: os.hostname(),
  leaseMs: '5000',
} as const satisfies Partial<AggregatorOptions>;

/** The options' numbers, checked: a bad flag is named with its fix. */
export function checkedNumbers(o: AggregatorOptions): { port: number; leaseMs: number } {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`--port ${o.port} is not a port: give 0 to 65535 (0: any free port)`);
  const leaseMs = Number(o.leaseMs);
  if (!Number.isInteger(leaseMs) || leaseMs < 300)
    throw new RangeError(`--lease-ms ${o.leaseMs} is too short: give at least 300`);
  return { port, leaseMs };
}
