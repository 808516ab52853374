import { UnitLeaseRepository } from '../src/repositories/unit-lease.repository';

/** In-memory UnitLeaseRepository: leases never expire by themselves; a test takes them away with `steal`. */
export class FakeUnitLeases {
  /** `<job>/<unit>` → `<service> <epoch>`. */
  readonly held = new Map<string, string>();
  private readonly epochs = new Map<string, number>();

  async acquire(jobId: string, unit: number, _units: number, serviceId: string): Promise<number | null> {
    const key = `${jobId}/${unit}`;
    if (this.held.has(key)) return null;
    const epoch = (this.epochs.get(key) ?? 0) + 1;
    this.epochs.set(key, epoch);
    this.held.set(key, `${serviceId} ${epoch}`);
    return epoch;
  }

  async renew(
    jobId: string,
    unit: number,
    _units: number,
    serviceId: string,
    epoch: number,
  ): Promise<boolean> {
    return this.held.get(`${jobId}/${unit}`) === `${serviceId} ${epoch}`;
  }

  async release(
    jobId: string,
    unit: number,
    _units: number,
    serviceId: string,
    epoch: number,
  ): Promise<void> {
    if (await this.renew(jobId, unit, 0, serviceId, epoch)) this.held.delete(`${jobId}/${unit}`);
  }

  /** Another service takes the unit's lease, as after this one was paused past it. */
  steal(jobId: string, unit: number, serviceId: string): void {
    const key = `${jobId}/${unit}`;
    const epoch = (this.epochs.get(key) ?? 0) + 1;
    this.epochs.set(key, epoch);
    this.held.set(key, `${serviceId} ${epoch}`);
  }

  as(): UnitLeaseRepository {
    return this as unknown as UnitLeaseRepository;
  }
}
