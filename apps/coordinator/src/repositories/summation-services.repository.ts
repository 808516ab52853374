import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys, SERVICE_ALIVE_WITHIN_MS, ServiceInfo, StepReport, xxh3Hex } from '@resnet/protocol';
import { partitionCountOf, TrainingJobSpec } from '@resnet/job';
import { RedisClient } from '@resnet/redis-connections';
import { REDIS } from './redis.providers';

/** Who holds a unit's lease now. */
export interface UnitLease {
  readonly serviceId: string;
  readonly epoch: number;
}

/**
 * Redis I/O about summation services for the jobs that train on them: the services' registry,
 * the set of jobs they serve, their units' leases, their step reports, and the units' durable
 * versions. The gradient and weights bytes never come here, except the durable units' hashes read
 * when a job's loop starts.
 */
@Injectable()
export class SummationServicesRepository {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Services heard from within SERVICE_ALIVE_WITHIN_MS. */
  async liveServices(now = Date.now()): Promise<ServiceInfo[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.services())).map(
      (raw) => JSON.parse(raw) as ServiceInfo,
    );
    return all.filter((s) => now - s.lastSeen <= SERVICE_ALIVE_WITHIN_MS);
  }

  /** Asks the services to hold the job's units (or, with `serve` false, to let them go). */
  async serve(jobId: string, serve: boolean): Promise<void> {
    if (serve) await this.redis.sadd(this.keys.serviceJobs(), jobId);
    else await this.redis.srem(this.keys.serviceJobs(), jobId);
  }

  /** Each unit's lease holder, or null for a unit no service holds. */
  async leases(jobId: string, spec: TrainingJobSpec): Promise<(UnitLease | null)[]> {
    const count = partitionCountOf(spec);
    const values = await Promise.all(
      Array.from({ length: count }, (_, u) => this.redis.get(this.keys.partition(u, count).unitLease(jobId))),
    );
    return values.map((value) => {
      if (!value) return null;
      const [serviceId, epoch] = value.split(' ');
      return { serviceId, epoch: Number(epoch) };
    });
  }

  reportKey(jobId: string, step: number, attempt: number): string {
    return this.keys.stepReports(jobId, step, attempt);
  }

  async reports(jobId: string, step: number, attempt: number): Promise<StepReport[]> {
    const raw = await this.redis.lrange(this.keys.stepReports(jobId, step, attempt), 0, -1);
    return raw.map((r) => JSON.parse(r) as StepReport);
  }

  /** Whether every unit's weights of `version` are durable. */
  async durable(jobId: string, spec: TrainingJobSpec, version: number): Promise<boolean> {
    const count = partitionCountOf(spec);
    const found = await Promise.all(
      Array.from({ length: count }, (_, u) =>
        this.redis.exists(this.keys.partition(u, count).weights(jobId, version)),
      ),
    );
    return found.every((n) => n === 1);
  }

  /** XXH3 (hex) of each unit's durable weights message of `version`; null when one is missing. */
  async durableHashes(jobId: string, spec: TrainingJobSpec, version: number): Promise<string[] | null> {
    const count = partitionCountOf(spec);
    const messages = await Promise.all(
      Array.from({ length: count }, (_, u) =>
        this.redis.getBuffer(this.keys.partition(u, count).weights(jobId, version)),
      ),
    );
    if (messages.some((m) => !m)) return null;
    return messages.map((m) => xxh3Hex(m!));
  }
}
