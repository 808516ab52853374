/** A worker's gradient unit of one shard, with the shard's totals (the service reports them to the coordinator). */
export interface PushRequest {
  readonly op: 'push';
  readonly jobId: string;
  readonly step: number;
  readonly shard: number;
  readonly unit: number;
  readonly attempt: number;
  /** The lease epoch the worker was routed under: a service with another refuses the unit. */
  readonly epoch: number;
  readonly workerId: string;
  readonly lossSum: number;
  readonly count: number;
  readonly correct: number;
}

/** A worker asks for a unit's weights message of a version. */
export interface PullRequest {
  readonly op: 'pull';
  readonly jobId: string;
  readonly unit: number;
  readonly version: number;
  /** The step's attempt, as in a push: a higher one may take the unit back to a durable version. */
  readonly attempt: number;
}

export type UnitRequest = PushRequest | PullRequest;

/**
 * The answer to a request: done (with the weights message for a pull), or refused and why;
 * `workersFault` when the unit itself was unusable rather than sent to the wrong owner or step.
 */
export type UnitResponse =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly workersFault: boolean };
