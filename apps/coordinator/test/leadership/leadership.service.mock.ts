import { LeadershipListener, LeadershipService } from '../../src/leadership/leadership.service';

/** Leadership decided by the test: it elects and deposes the listener by hand. */
export class FakeLeadership implements Partial<LeadershipService> {
  token: number | null = null;
  readonly coordinatorId = 'coordinator-under-test';
  readonly stepDowns: string[] = [];
  private listener: LeadershipListener | null = null;

  follow(listener: LeadershipListener): void {
    this.listener = listener;
  }

  async elect(fence: number): Promise<void> {
    this.token = fence;
    await this.listener!.elected(fence);
  }

  async renew(): Promise<void> {
    await this.listener!.leading(this.token!);
  }

  async stepDown(reason: string): Promise<void> {
    if (this.token === null) return;
    this.token = null;
    this.stepDowns.push(reason);
    await this.listener!.deposed(reason);
  }

  as(): LeadershipService {
    return this as unknown as LeadershipService;
  }
}
