import { EvalMetrics } from './eval-metrics';
import { StepMetrics } from './step-metrics';

/** A job's metrics so far, as GET /jobs/:id/metrics returns them. */
export interface JobMetrics {
  readonly steps: StepMetrics[];
  readonly evals: EvalMetrics[];
}
