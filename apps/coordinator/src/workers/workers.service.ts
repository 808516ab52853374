import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Precision, WORKER_ALIVE_WITHIN_MS, WorkerView } from '@resnet/protocol';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { WorkerRegistryRepository } from '../repositories/worker-registry.repository';

/** Gone workers stay listed this long, so a crash is visible, then are forgotten. */
const FORGET_AFTER_MS = 3600_000;
/** What POST /workers/:id/release answers. */
export interface WorkerRelease {
  readonly id: string;
  /** False when it was not quarantined: its fault count was reset all the same. */
  readonly wasQuarantined: boolean;
}

@Injectable()
export class WorkersService {
  private readonly logger = new Logger(WorkersService.name);

  constructor(
    private readonly registry: WorkerRegistryRepository,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

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

  /**
   * Counts a rejected result against a worker and quarantines it once it reaches the limit within
   * the window. (A crashed worker's shard is simply computed again: crashes never count.) Returns
   * whether the worker is quarantined now.
   */
  async recordRejectedResult(workerId: string, reason: string): Promise<boolean> {
    const { quarantineAfter, windowMs } = this.config.workerFaults;
    const faults = await this.registry.countFault(workerId, windowMs);
    if (faults < quarantineAfter) return false;
    await this.registry.quarantine(workerId);
    this.logger.warn(
      `worker ${workerId} quarantined after ${faults} rejected results within ${windowMs} ms (last: ${reason}); release it with POST /workers/${workerId}/release`,
    );
    return true;
  }

  /** An operator's word that the worker is sound again: its quarantine lifts and its faults are forgotten. */
  async release(workerId: string): Promise<WorkerRelease> {
    const wasQuarantined = await this.registry.release(workerId);
    if (!wasQuarantined && !(await this.list()).some((w) => w.id === workerId)) {
      throw new NotFoundException(
        `no worker ${workerId} is quarantined or has sent a heartbeat within the hour; GET /workers lists them`,
      );
    }
    this.logger.log(`worker ${workerId} released by an operator`);
    return { id: workerId, wasQuarantined };
  }

  /**
   * For each precision, why no shard of a job in it can be computed now, or null while some worker
   * can take them: every worker is quarantined or gone, or none of those alive computes it.
   */
  async unavailability(now = Date.now()): Promise<Record<Precision, string | null>> {
    const workers = await this.list(now);
    const general = generalUnavailability(workers);
    const serving = workers.filter((w) => w.alive && !w.quarantined);
    const bf16 = serving.some((w) => w.precisions.includes('bf16'))
      ? null
      : (general ??
        'no alive worker computes bf16: start onednn workers on CPUs with native bf16 (AVX512_BF16 or AMX), or submit the job with precision fp32');
    return { fp32: general, bf16 };
  }

  quarantinedWorkers(): Promise<Set<string>> {
    return this.registry.quarantined();
  }
}

/** Why no worker at all can take shards (all quarantined or gone, or none joined); null while one can. */
function generalUnavailability(workers: readonly WorkerView[]): string | null {
  if (workers.some((w) => w.alive && !w.quarantined)) return null;
  const quarantined = workers.filter((w) => w.quarantined).map((w) => w.id);
  const gone = workers.filter((w) => !w.alive && !w.quarantined).length;
  if (!workers.length) return 'no worker has joined: start workers (npm run worker) for the job to go on';
  return [
    'no worker can take shards:',
    quarantined.length
      ? `${quarantined.join(', ')} ${quarantined.length === 1 ? 'is' : 'are'} quarantined (release with POST /workers/<id>/release or \`workers release <id>\` once sound)`
      : '',
    gone ? `${gone} gone (no heartbeat for 15 s); start workers for the job to go on` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
