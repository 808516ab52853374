import { RedisKeys, SERVICE_ALIVE_WITHIN_MS, ServiceInfo } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';

/** The services' heartbeats, and the jobs the coordinator wants served. */
export class ServiceRegistryRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async heartbeat(info: ServiceInfo): Promise<void> {
    await this.redis.hset(this.keys.services(), info.id, JSON.stringify(info));
  }

  /** Services heard from within SERVICE_ALIVE_WITHIN_MS, sorted by id. */
  async liveServices(now = Date.now()): Promise<ServiceInfo[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.services())).map(
      (raw) => JSON.parse(raw) as ServiceInfo,
    );
    return all
      .filter((s) => now - s.lastSeen <= SERVICE_ALIVE_WITHIN_MS)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Jobs whose units the services hold: those a coordinator trains with `aggregation: 'services'`. */
  async serviceJobs(): Promise<string[]> {
    return this.redis.smembers(this.keys.serviceJobs());
  }

  async leave(id: string): Promise<void> {
    await this.redis.hdel(this.keys.services(), id);
  }
}
