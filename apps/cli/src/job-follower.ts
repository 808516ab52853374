import { SingleBar } from 'cli-progress';
import { EvalMetrics, StepMetrics } from '@resnet/protocol';
import { JobView } from '@resnet/job';
import { CoordinatorClient } from './coordinator-client';

const POLL_MS = 1000;

/** How a follower shows progress: one line per step and evaluation, or a progress bar. */
interface ProgressView {
  update(job: JobView, steps: StepMetrics[], evals: EvalMetrics[]): void;
  stop(): void;
}

/** Polls a job until it leaves queued/running, showing its steps as they commit; returns the final job. */
export async function followJob(
  client: CoordinatorClient,
  id: string,
  view: 'lines' | 'bar' = 'lines',
): Promise<JobView> {
  // A bar needs a terminal to redraw in; piped output gets lines.
  const progress: ProgressView = view === 'bar' && process.stdout.isTTY ? new BarView() : new LineView();
  try {
    for (;;) {
      const [job, { steps, evals }] = await Promise.all([client.job(id), client.metrics(id)]);
      progress.update(job, steps, evals);
      if (job.status !== 'queued' && job.status !== 'running') return job;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    progress.stop();
  }
}

class LineView implements ProgressView {
  private stepsShown = 0;
  private evalsShown = 0;

  /** New steps and evaluations in step order: an evaluation right after the step it evaluated. */
  update(job: JobView, steps: StepMetrics[], evals: EvalMetrics[]): void {
    const newEvals = evals.slice(this.evalsShown);
    for (const m of steps.slice(this.stepsShown)) {
      while (newEvals.length > 0 && newEvals[0].step < m.step) printEval(newEvals.shift()!);
      console.log(
        `step ${m.step}/${job.totalSteps} epoch ${m.epoch.toFixed(2)} loss ${m.loss.toFixed(4)} ` +
          `acc ${(m.accuracy * 100).toFixed(1)}% lr ${m.lr.toFixed(4)} ${m.imagesPerSecond.toFixed(1)} img/s`,
      );
    }
    newEvals.forEach(printEval);
    this.stepsShown = steps.length;
    this.evalsShown = evals.length;
  }

  stop(): void {}
}

function printEval(e: EvalMetrics): void {
  console.log(
    `test after step ${e.step}: loss ${e.loss.toFixed(4)} acc ${(e.accuracy * 100).toFixed(2)}% (${e.count} images)`,
  );
}

class BarView implements ProgressView {
  private readonly bar = new SingleBar({
    format:
      '{bar} {percentage}% | step {value}/{total} | epoch {epoch} | loss {loss} | test acc {testAccuracy} | {imagesPerSecond} img/s | ETA {eta_formatted}',
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: true,
    etaBuffer: 20,
  });
  private started = false;

  update(job: JobView, steps: StepMetrics[], evals: EvalMetrics[]): void {
    const last = steps.at(-1);
    const test = evals.at(-1);
    const payload = {
      epoch: job.epoch.toFixed(2),
      loss: last ? last.loss.toFixed(4) : '-',
      testAccuracy: test ? `${(test.accuracy * 100).toFixed(2)}%` : '-',
      imagesPerSecond: last ? last.imagesPerSecond.toFixed(1) : '-',
    };
    if (this.started) {
      this.bar.update(job.step, payload);
    } else {
      this.bar.start(job.totalSteps, job.step, payload);
      this.started = true;
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
