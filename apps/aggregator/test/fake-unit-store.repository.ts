import { StepReport } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { DurableUnit, UnitStoreRepository } from '../src/repositories/unit-store.repository';

/** In-memory UnitStoreRepository: job specs, each unit's durable versions, and the reports pushed. */
export class FakeUnitStore {
  readonly specs = new Map<string, TrainingJobSpec>();
  /** `<job>/<unit>` → durable versions written, oldest first. */
  readonly durable = new Map<string, DurableUnit[]>();
  readonly reports: StepReport[] = [];
  /** Lease values under which each durable write came, in order. */
  readonly writers: string[] = [];
  /** Whether a durable write is taken (the lease check, which the lease fake knows). */
  leaseHolds: (leaseValue: string) => boolean = () => true;

  async jobSpec(jobId: string): Promise<TrainingJobSpec | null> {
    return this.specs.get(jobId) ?? null;
  }

  async restore(jobId: string, unit: number, _units: number, at?: number): Promise<DurableUnit> {
    const versions = this.durable.get(`${jobId}/${unit}`) ?? [];
    const found = at === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === at);
    if (!found) throw new Error(`no durable version ${at ?? 'at all'} of unit ${unit} of job ${jobId}`);
    return found;
  }

  async writeDurable(
    jobId: string,
    unit: number,
    _units: number,
    leaseValue: string,
    state: DurableUnit,
  ): Promise<boolean> {
    if (!this.leaseHolds(leaseValue)) return false;
    this.writers.push(leaseValue);
    const key = `${jobId}/${unit}`;
    this.durable.set(key, [...(this.durable.get(key) ?? []), state]);
    return true;
  }

  async pushReport(_jobId: string, report: StepReport): Promise<void> {
    this.reports.push(report);
  }

  as(): UnitStoreRepository {
    return this as unknown as UnitStoreRepository;
  }
}
