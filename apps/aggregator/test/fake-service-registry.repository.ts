import { ServiceInfo } from '@resnet/protocol';
import { ServiceRegistryRepository } from '../src/repositories/service-registry.repository';

/** In-memory ServiceRegistryRepository: the live services and the jobs to serve are what a test sets. */
export class FakeServiceRegistry {
  live: ServiceInfo[] = [];
  jobs: string[] = [];

  async heartbeat(info: ServiceInfo): Promise<void> {
    this.live = [...this.live.filter((s) => s.id !== info.id), info];
  }

  async liveServices(): Promise<ServiceInfo[]> {
    return [...this.live].sort((a, b) => a.id.localeCompare(b.id));
  }

  async serviceJobs(): Promise<string[]> {
    return this.jobs;
  }

  async leave(id: string): Promise<void> {
    this.live = this.live.filter((s) => s.id !== id);
  }

  as(): ServiceRegistryRepository {
    return this as unknown as ServiceRegistryRepository;
  }
}
