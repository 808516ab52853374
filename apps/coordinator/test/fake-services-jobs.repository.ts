import { JobRepository, ServicesStepCommit, UnitRecord } from '../src/repositories/job.repository';

/** In-memory JobRepository for a job on summation services: its commits, redone steps and announcements. */
export class FakeServicesJobs {
  readonly commits: ServicesStepCommit[] = [];
  readonly redos: { from: number; attempt: number; back?: UnitRecord }[] = [];
  readonly announced: { version: number; previous: number }[] = [];

  async commitServicesStep(c: ServicesStepCommit): Promise<void> {
    this.commits.push(c);
  }

  async redoStep(
    _jobId: string,
    _fence: number,
    from: number,
    attempt: number,
    back?: UnitRecord,
  ): Promise<void> {
    this.redos.push({ from, attempt, ...(back ? { back } : {}) });
  }

  async announceVersion(_jobId: string, version: number, previous: number): Promise<void> {
    this.announced.push({ version, previous });
  }

  as(): JobRepository {
    return this as unknown as JobRepository;
  }
}
