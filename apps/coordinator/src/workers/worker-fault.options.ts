/** When rejected results get a worker quarantined. Crashes never count: only results refused for their content. */
export interface WorkerFaultOptions {
  /**
   * Rejected results within `windowMs` that quarantine a worker (QUARANTINE_AFTER_REJECTED).
   * @defaultValue 3
   */
  readonly quarantineAfter: number;
  /**
   * Rejected results older than this are forgotten (FAULT_WINDOW_MS), so that rare incidents
   * never add up to a quarantine over a worker's life.
   * @defaultValue 3600000 (an hour)
   */
  readonly windowMs: number;
}

export const WORKER_FAULT_DEFAULTS: WorkerFaultOptions = { quarantineAfter: 3, windowMs: 3600_000 };
