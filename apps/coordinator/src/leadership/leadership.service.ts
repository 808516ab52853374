import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { LeaderLeaseRepository } from '../repositories/leader-lease.repository';

/** What the training loops hear of this coordinator's leadership. */
export interface LeadershipListener {
  /** This coordinator took the lease: `fence` is the token its writes carry. */
  elected(fence: number): Promise<void>;
  /** The lease was renewed: a moment to pick up what followers changed (submissions, pauses). */
  leading(fence: number): Promise<void>;
  /** The lease is lost: stop writing. */
  deposed(reason: string): Promise<void>;
}

/** Who leads, as GET /health and the dashboard show it. */
export interface LeadershipView {
  /** This coordinator's id. */
  readonly coordinator: string;
  /** The leader's id as of the last lease check, or null before the first. */
  readonly leader: string | null;
  readonly leading: boolean;
}

/**
 * Any number of coordinators may share a Redis and prefix; one leads the training loops. It holds
 * a lease in Redis and renews it every third of its length; the others try to take it as often, and
 * one does once the leader stops renewing (it died, froze, or lost Redis). Each new leader gets a
 * fencing token one above the last, and every write of a training loop carries it (FencedWriter),
 * so a deposed leader that wakes up is refused and steps down rather than overwrite its successor.
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LeadershipService.name);
  private fence: number | null = null;
  /** The lease's holder at the last check, kept so that GET /health reads no Redis for it. */
  private leader: string | null = null;
  private listener: LeadershipListener | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** Ticks run one at a time: an election that takes a while must not overlap the next renewal. */
  private ticking = false;

  constructor(
    private readonly lease: LeaderLeaseRepository,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  get coordinatorId(): string {
    return this.config.leadership.coordinatorId;
  }

  /** The fencing token while this coordinator leads, else null. */
  get token(): number | null {
    return this.fence;
  }

  /** The training service registers itself; there is one listener. */
  follow(listener: LeadershipListener): void {
    this.listener = listener;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.leadership.leaseMs / 3);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // Training loops have stopped by now (onModuleDestroy): free the lease so a follower need not wait.
    if (this.fence !== null) {
      this.fence = null;
      await this.lease
        .release(this.coordinatorId)
        .catch((err: Error) => this.logger.warn(`could not release the lease: ${err.message}`));
    }
  }

  view(): LeadershipView {
    return { coordinator: this.coordinatorId, leader: this.leader, leading: this.fence !== null };
  }

  /** Stops leading at once: a write was refused, so another coordinator leads. */
  async stepDown(reason: string): Promise<void> {
    if (this.fence === null) return;
    this.fence = null;
    this.leader = null;
    this.logger.warn(`coordinator ${this.coordinatorId} steps down: ${reason}`);
    await this.listener?.deposed(reason);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const { coordinatorId, leaseMs } = this.config.leadership;
    try {
      if (this.fence === null) {
        const attempt = await this.lease.acquire(coordinatorId, leaseMs);
        if ('holder' in attempt) {
          this.leader = attempt.holder;
          return;
        }
        this.fence = attempt.token;
        this.leader = coordinatorId;
        this.logger.log(
          `coordinator ${coordinatorId} leads (fencing token ${attempt.token}, lease ${leaseMs} ms)`,
        );
        await this.listener?.elected(attempt.token);
      } else if (await this.lease.renew(coordinatorId, this.fence, leaseMs)) {
        await this.listener?.leading(this.fence);
      } else {
        await this.stepDown('its lease expired and another coordinator may lead');
      }
    } catch (err) {
      // Redis is unreachable: nobody can write, and the fencing token guards what happens after.
      this.logger.warn(`leadership check failed: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }
}
