/** A learning-rate schedule as a job states it. */
export interface ScheduleSettings {
  /** Peak learning rate (before the linear scaling rule, if that is on). */
  readonly lr: number;
  readonly warmupSteps: number;
  readonly decay: 'constant' | 'step' | 'cosine';
  /** Steps at which step decay multiplies the rate by `factor`. */
  readonly milestones: readonly number[];
  readonly factor: number;
  /** Linear scaling rule (Goyal et al.): lr × batchSize / referenceBatch. Null leaves lr as given. */
  readonly referenceBatch: number | null;
}

/** A job's schedule with what it depends on: the global batch (scaling rule) and the job's length (cosine). */
export interface LrSchedule extends ScheduleSettings {
  readonly batchSize: number;
  readonly totalSteps: number;
}

/** The peak rate after the linear scaling rule (Goyal et al. 2017): proportional to the global batch. */
export function peakLr(s: LrSchedule): number {
  return s.referenceBatch === null ? s.lr : (s.lr * s.batchSize) / s.referenceBatch;
}

/**
 * Learning rate for 0-based optimizer step `step`: linear warmup to the peak over `warmupSteps`
 * (reaching it on the last warmup step), then constant, step decay (× factor at each milestone
 * passed) or cosine decay to zero over the remaining steps. Matches the reference script's lr_at.
 */
export function lrAt(s: LrSchedule, step: number): number {
  const peak = peakLr(s);
  if (step < s.warmupSteps) return (peak * (step + 1)) / s.warmupSteps;
  switch (s.decay) {
    case 'constant':
      return peak;
    case 'step':
      return peak * s.factor ** s.milestones.filter((m) => step >= m).length;
    case 'cosine': {
      const span = Math.max(1, s.totalSteps - s.warmupSteps);
      return peak * 0.5 * (1 + Math.cos((Math.PI * (step - s.warmupSteps)) / span));
    }
  }
}
