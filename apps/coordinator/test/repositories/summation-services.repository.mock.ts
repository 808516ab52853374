import { ServiceInfo, StepReport } from '@resnet/protocol';
import { SummationServicesRepository, UnitLease } from '../../src/repositories/summation-services.repository';

/** In-memory SummationServicesRepository: services, leases, reports and durable versions as a test sets them. */
export class FakeSummationServices {
  live: ServiceInfo[] = [];
  leasesNow: (UnitLease | null)[] = [];
  /** `<step>/<attempt>` → the reports the services pushed. */
  readonly reportsOf = new Map<string, StepReport[]>();
  /** Versions every unit of which is durable, and their units' hashes. */
  readonly durableHashesOf = new Map<number, string[]>();

  async liveServices(): Promise<ServiceInfo[]> {
    return this.live;
  }

  async leases(): Promise<(UnitLease | null)[]> {
    return this.leasesNow;
  }

  reportKey(jobId: string, step: number, attempt: number): string {
    return `${jobId}:reports:${step}:${attempt}`;
  }

  async reports(_jobId: string, step: number, attempt: number): Promise<StepReport[]> {
    return this.reportsOf.get(`${step}/${attempt}`) ?? [];
  }

  async durable(_jobId: string, _spec: unknown, version: number): Promise<boolean> {
    return this.durableHashesOf.has(version);
  }

  async durableHashes(_jobId: string, _spec: unknown, version: number): Promise<string[] | null> {
    return this.durableHashesOf.get(version) ?? null;
  }

  as(): SummationServicesRepository {
    return this as unknown as SummationServicesRepository;
  }
}
