/**
 * What summation services (apps/aggregator), the coordinator and the workers of a job with
 * `aggregation: 'services'` tell each other through Redis. The bytes themselves (gradient and
 * weights units) travel over TCP between workers and services, never through Redis.
 */

/** A summation service's heartbeat in the registry (RedisKeys.services). */
export interface ServiceInfo {
  readonly id: string;
  /** host:port that workers dial. */
  readonly address: string;
  /** Processes with the same label share a machine (a worker's and a service's `--machine`). */
  readonly machine: string;
  readonly pid: number;
  readonly lastSeen: number;
}

/** Where a step's workers find one unit: its owner's address and lease, and the hash its weights must have. */
export interface UnitRoute {
  readonly unit: number;
  readonly address: string;
  /** The owner's lease epoch: a push carrying another is refused. */
  readonly epoch: number;
  /** XXH3-64 (hex) of the unit's weights message of the step's version, from the commit record: a pulled unit must match. */
  readonly hash: string;
}

/** One unit in a service's step report: its lease epoch and the XXH3-64 (hex) of its next weights message. */
export interface UnitCommit {
  readonly unit: number;
  readonly epoch: number;
  readonly hash: string;
}

/** What a service learned of one shard from its pushes: its totals, and who computed it. */
export interface ShardReport {
  readonly shard: number;
  readonly lossSum: number;
  readonly count: number;
  readonly correct: number;
  readonly workerId: string;
}

/** One service's report of a step (RedisKeys.stepReports): every unit it updated and every shard it folded. */
export interface StepReport {
  readonly serviceId: string;
  readonly step: number;
  readonly attempt: number;
  /** False when the update made a unit's weights, momentum or running statistics non-finite. */
  readonly finite: boolean;
  readonly units: readonly UnitCommit[];
  readonly shards: readonly ShardReport[];
}

/** A service whose heartbeat is older than this is gone. */
export const SERVICE_ALIVE_WITHIN_MS = 5_000;
/** The port a summation service listens on unless told otherwise. */
export const DEFAULT_SERVICE_PORT = 7400;
