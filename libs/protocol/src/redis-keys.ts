/** Every Redis key and queue name the coordinator and workers share, in one place. */
export const SHARD_QUEUE = 'shards';

/** Where the coordinator and workers look for Redis unless told otherwise (REDIS_URL, --redis). */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Key and queue prefix unless told otherwise (REDIS_PREFIX, --prefix): several clusters can share a Redis. */
export const DEFAULT_REDIS_PREFIX = 'rc';

/** The message on RedisKeys.versionChannel(): weights `version` of job `jobId` can be read. */
export interface VersionAnnouncement {
  readonly jobId: string;
  readonly version: number;
  /** The version committed before it: version − 1, or version − localSteps with local SGD. */
  readonly previous: number;
}

export class RedisKeys {
  constructor(readonly prefix = DEFAULT_REDIS_PREFIX) {}

  jobIndex(): string {
    return `${this.prefix}:jobs`;
  }
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }
  weights(id: string, version: number): string {
    return `${this.prefix}:job:${id}:weights:${version}`;
  }
  momentum(id: string): string {
    return `${this.prefix}:job:${id}:momentum`;
  }
  /** Weights version `version`, written ahead of the commit that renames it to weights(id, version). */
  weightsStaged(id: string, version: number): string {
    return `${this.prefix}:job:${id}:weights:${version}:staged`;
  }
  /**
   * Version `version`'s optimizer state, written ahead of the commit that renames it to momentum(id).
   * Per version, so that a deposed leader still staging an older step cannot overwrite the leader's.
   */
  momentumStaged(id: string, version: number): string {
    return `${this.prefix}:job:${id}:momentum:staged:${version}`;
  }
  stepMetrics(id: string): string {
    return `${this.prefix}:job:${id}:metrics`;
  }
  evalMetrics(id: string): string {
    return `${this.prefix}:job:${id}:evals`;
  }
  /** Pub/sub channel on which each committed weights version is announced, as a VersionAnnouncement. */
  versionChannel(): string {
    return `${this.prefix}:versions`;
  }
  gradient(id: string, step: number, shard: number): string {
    return `${this.prefix}:job:${id}:grad:${step}:${shard}`;
  }
  workerIndex(): string {
    return `${this.prefix}:workers`;
  }
  /** When a worker's results were rejected: a sorted set of times, so that old faults age out. */
  workerFaults(workerId: string): string {
    return `${this.prefix}:worker-faults:${workerId}`;
  }
  /** Worker ids whose results are refused; workers read it and stop taking shards. */
  quarantine(): string {
    return `${this.prefix}:quarantine`;
  }
  /** The lease of the coordinator that leads the training loops: its id, expiring unless renewed. */
  leaderLease(): string {
    return `${this.prefix}:leader`;
  }
  /**
   * The fencing token: incremented by each coordinator that takes the lease, so it always holds the
   * current leader's token. Every write of a training loop checks it against the token it started under.
   */
  leaderToken(): string {
    return `${this.prefix}:leader:token`;
  }
}
