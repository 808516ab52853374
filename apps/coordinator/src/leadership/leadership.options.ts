import * as os from 'node:os';

/** How coordinators sharing one Redis and prefix choose the one that runs the training loops. */
export interface LeadershipOptions {
  /**
   * This coordinator's name in the lease, GET /health and the dashboard (COORDINATOR_ID); unique
   * per process, so that a restarted coordinator is never mistaken for its predecessor.
   * @defaultValue `<hostname>-<pid>`
   */
  readonly coordinatorId: string;
  /**
   * How long the leader's lease lasts unless renewed (LEADER_LEASE_MS), renewed every third of it:
   * when the leader dies, a follower takes over within this time.
   * @defaultValue 10000
   */
  readonly leaseMs: number;
}

export const LEADERSHIP_DEFAULTS: LeadershipOptions = {
  coordinatorId: `${os.hostname()}-${process.pid}`,
  leaseMs: 10_000,
};
