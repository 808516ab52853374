import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { DatasetPreparations, DatasetPreparationView, PreparationObserver } from './dataset-preparations';

/** Between two progress lines when no terminal can show a bar. */
const LINE_EVERY_MS = 5000;

/**
 * Shows dataset preparation in the coordinator's console: a progress bar (images decoded, rate,
 * ETA) on a terminal with human logs, otherwise a log line every few seconds.
 */
@Injectable()
export class PreparationConsole implements PreparationObserver, OnModuleInit {
  private readonly logger = new Logger('DatasetPreparation');
  private bar: SingleBar | null = null;
  private lastLine = 0;

  constructor(
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    private readonly preparations: DatasetPreparations,
  ) {}

  onModuleInit(): void {
    this.preparations.observe(this);
  }

  private get drawsBar(): boolean {
    return this.config.logFormat === 'pretty' && process.stderr.isTTY === true;
  }

  progressed(view: DatasetPreparationView): void {
    if (view.total === 0) {
      // Extracting (a few seconds for CIFAR-10's 60,000 files), or listing the second split.
      if (view.phase === 'extracting' && this.lastLine === 0) {
        this.lastLine = performance.now();
        this.logger.log(`preparing ${view.dataset} for ${view.jobName}: extracting the archive`);
      }
      return;
    }
    if (this.drawsBar) {
      this.drawBar(view);
      return;
    }
    const now = performance.now();
    if (this.lastLine === 0 || now - this.lastLine >= LINE_EVERY_MS) {
      this.lastLine = now;
      this.logger.log(progressLine(view));
    }
  }

  ended(view: DatasetPreparationView, succeeded: boolean): void {
    this.bar?.stop();
    this.bar = null;
    this.lastLine = 0;
    // A dataset read from the cache decodes nothing: nothing to say; a failure's reason goes to the caller.
    if (view.done === 0 || !succeeded) return;
    this.logger.log(
      `${view.dataset}: ${view.done.toLocaleString('en')} images decoded` +
        (view.imagesPerSecond ? ` (${Math.round(view.imagesPerSecond).toLocaleString('en')}/s)` : '') +
        '; cached for the next runs (DATA_CACHE_DIR)',
    );
  }

  private drawBar(view: DatasetPreparationView): void {
    const payload = {
      dataset: view.dataset,
      rate: view.imagesPerSecond ? Math.round(view.imagesPerSecond).toLocaleString('en') : '-',
    };
    if (!this.bar) {
      this.bar = new SingleBar({
        format:
          'preparing {dataset} {bar} {percentage}% | {value}/{total} images | {rate}/s | ETA {eta_formatted}',
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
        stream: process.stderr,
        etaBuffer: 2000,
      });
      this.bar.start(view.total, view.done, payload);
    } else {
      this.bar.update(view.done, payload);
    }
  }
}

/** `preparing cifar10-images.tar.gz: 12,016/60,000 images decoded (20%), 1,530/s, about 31 s left` */
export function progressLine(view: DatasetPreparationView): string {
  const percent = Math.floor(view.fraction * 100);
  const rate = view.imagesPerSecond ? `, ${Math.round(view.imagesPerSecond).toLocaleString('en')}/s` : '';
  const eta = view.etaSeconds === null ? '' : `, about ${Math.ceil(view.etaSeconds)} s left`;
  return (
    `preparing ${view.dataset} for ${view.jobName}: ${view.done.toLocaleString('en')}/` +
    `${view.total.toLocaleString('en')} images decoded (${percent}%)${rate}${eta}`
  );
}
