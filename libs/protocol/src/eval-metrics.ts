/** A test-set evaluation of a weights version. */
export interface EvalMetrics {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  /** Top-1 accuracy. */
  readonly accuracy: number;
  /** Top-5 accuracy (1 when there are at most 5 classes). */
  readonly top5: number;
  readonly count: number;
  readonly at: number;
}
