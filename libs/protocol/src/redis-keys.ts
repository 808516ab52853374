import { CLUSTER_SLOTS, hashSlot } from './hash-slot';

/** Every Redis key and queue name the coordinator and workers share, in one place. */
/** The float32 shard queue; `shardQueueFor` (precision.ts) names each precision's. */
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
  private readonly partitions = new Map<string, PartitionKeys>();

  constructor(readonly prefix = DEFAULT_REDIS_PREFIX) {}

  /**
   * The keys of the big values of partition `index` of a model split into `count` (weights
   * versions, optimizer state, gradient messages). With one partition they sit under the prefix
   * like every other key. With several, each partition's keys share a hash tag of their own, chosen
   * so that partition i falls in the i-th of `count` equal ranges of Redis Cluster slots: a cluster
   * created with `count` masters (which split the slots evenly) serves each partition from its own
   * master, and one aggregator's traffic never waits behind another's.
   */
  partition(index: number, count: number): PartitionKeys {
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new RangeError(`partition ${index} is not one of 0..${count - 1}`);
    const id = `${index}/${count}`;
    let keys = this.partitions.get(id);
    if (!keys) {
      keys = new PartitionKeys(count === 1 ? this.prefix : partitionTag(this.prefix, index, count));
      this.partitions.set(id, keys);
    }
    return keys;
  }

  jobIndex(): string {
    return `${this.prefix}:jobs`;
  }
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
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
  /** Summation services' heartbeats: a hash of service id → ServiceInfo JSON. */
  services(): string {
    return `${this.prefix}:services`;
  }
  /** The jobs whose units summation services should hold: a set of job ids, kept by the leading coordinator. */
  serviceJobs(): string {
    return `${this.prefix}:service-jobs`;
  }
  /** The services' reports (StepReport JSON) of attempt `attempt` at step `step` of a job: a list. */
  stepReports(id: string, step: number, attempt: number): string {
    return `${this.prefix}:job:${id}:reports:${step}:${attempt}`;
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

/** The per-partition keys: see RedisKeys.partition. */
export class PartitionKeys {
  constructor(readonly prefix: string) {}

  weights(id: string, version: number): string {
    return `${this.prefix}:job:${id}:weights:${version}`;
  }
  momentum(id: string): string {
    return `${this.prefix}:job:${id}:momentum`;
  }
  /**
   * Weights version `version` as coordinator `fence` computed it, written ahead of the commit that
   * renames it to weights(id, version). Per fencing token, so that a deposed leader still staging
   * the same step cannot overwrite what the leader staged.
   */
  weightsStaged(id: string, version: number, fence: number): string {
    return `${this.prefix}:job:${id}:weights:${version}:staged:${fence}`;
  }
  /** Version `version`'s optimizer state, staged like weightsStaged until renamed to momentum(id). */
  momentumStaged(id: string, version: number, fence: number): string {
    return `${this.prefix}:job:${id}:momentum:staged:${version}:${fence}`;
  }
  /** A summation service's lease on this unit of a job: `<service id> <epoch>`, expiring unless renewed. */
  unitLease(id: string): string {
    return `${this.prefix}:job:${id}:unit-lease`;
  }
  /** Incremented by each service that takes the unit's lease: its fencing epoch. */
  unitEpoch(id: string): string {
    return `${this.prefix}:job:${id}:unit-epoch`;
  }
  /**
   * A unit's momentum at `version`, written durable by its summation service with weights(id,
   * version). The last two versions are kept, so that a step can be rolled back to the one before.
   */
  momentumAt(id: string, version: number): string {
    return `${this.prefix}:job:${id}:momentum:${version}`;
  }
  /** The last version whose weights and momentum of this unit are durable (weights(id, version), momentumAt(id, version)). */
  unitDurable(id: string): string {
    return `${this.prefix}:job:${id}:unit-durable`;
  }
  gradient(id: string, step: number, shard: number): string {
    return `${this.prefix}:job:${id}:grad:${step}:${shard}`;
  }
}

/** A hash tag for partition `index` of `count` whose slot lies in the index-th of `count` equal slot ranges. */
function partitionTag(prefix: string, index: number, count: number): string {
  // Braces in the prefix (a cluster's shared tag) would end the partition's tag early.
  const base = prefix.replace(/[{}]/g, '');
  const low = Math.floor((index * CLUSTER_SLOTS) / count);
  const high = Math.floor(((index + 1) * CLUSTER_SLOTS) / count);
  for (let salt = 0; ; salt++) {
    const tag = `{${base}/p${index}.${salt}}`;
    const slot = hashSlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}
