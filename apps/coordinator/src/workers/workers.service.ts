import { Injectable, Logger } from '@nestjs/common';
import { WORKER_ALIVE_WITHIN_MS, WorkerView } from '@resnet/protocol';
import { WorkerRegistryRepository } from '../repositories/worker-registry.repository';

/** Gone workers stay listed this long, so a crash is visible, then are forgotten. */
const FORGET_AFTER_MS = 3600_000;
/** A worker whose results were rejected this many times gets no more shards. */
export const QUARANTINE_AFTER_FAULTS = 3;

@Injectable()
export class WorkersService {
  private readonly logger = new Logger(WorkersService.name);

  constructor(private readonly registry: WorkerRegistryRepository) {}

  async list(now = Date.now()): Promise<WorkerView[]> {
    const [workers, quarantined] = await Promise.all([
      this.registry.heartbeats(),
      this.registry.quarantined(),
    ]);
    const stale = workers.filter((w) => now - w.lastSeen > FORGET_AFTER_MS).map((w) => w.id);
    await this.registry.forget(stale);
    return workers
      .filter((w) => !stale.includes(w.id))
      .map((w) => ({
        ...w,
        alive: now - w.lastSeen <= WORKER_ALIVE_WITHIN_MS,
        quarantined: quarantined.has(w.id),
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Counts a rejected result against a worker and quarantines it once it reaches the limit. */
  async recordRejectedResult(workerId: string, reason: string): Promise<void> {
    const faults = await this.registry.countFault(workerId);
    if (faults >= QUARANTINE_AFTER_FAULTS) {
      await this.registry.quarantine(workerId);
      this.logger.warn(`worker ${workerId} quarantined after ${faults} rejected results (last: ${reason})`);
    }
  }

  isQuarantined(workerId: string): Promise<boolean> {
    return this.registry.isQuarantined(workerId);
  }
}
