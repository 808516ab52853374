import { Injectable } from '@nestjs/common';
import { DatasetProgress, DatasetProgressListener } from '@resnet/data';

/** A dataset being extracted and decoded for a submitted job, as the dashboard and console show it. */
export interface DatasetPreparationView {
  /** The dataset's path under DATA_ROOT. */
  readonly dataset: string;
  /** The name the job will have. */
  readonly jobName: string;
  readonly phase: DatasetProgress['phase'];
  /** Images decoded so far, over every split. */
  readonly done: number;
  /** Images to decode; 0 until every split has been listed. */
  readonly total: number;
  /** 0 to 1. */
  readonly fraction: number;
  readonly imagesPerSecond: number | null;
  readonly etaSeconds: number | null;
}

/** Whoever shows a preparation's progress as it goes (see PreparationConsole). */
export interface PreparationObserver {
  progressed(view: DatasetPreparationView): void;
  /** `succeeded`: false when the dataset turned out unreadable (the request says why). */
  ended(view: DatasetPreparationView, succeeded: boolean): void;
}

/** The splits a folder or archive dataset is decoded in (see openDatasetSplits). */
const SPLITS = 2;

class Preparation {
  private readonly splits = new Map<string, DatasetProgress>();
  private decodingSince: number | null = null;

  constructor(
    readonly dataset: string,
    readonly jobName: string,
  ) {}

  record(progress: DatasetProgress): void {
    this.splits.set(progress.split, progress);
    if (progress.phase === 'decoding') this.decodingSince ??= performance.now();
  }

  view(): DatasetPreparationView {
    const all = [...this.splits.values()];
    const decoding = all.filter((p) => p.phase === 'decoding');
    const done = decoding.reduce((n, p) => n + p.done, 0);
    // Until both splits have been listed, the total is not known.
    const total = decoding.length === SPLITS ? decoding.reduce((n, p) => n + p.total, 0) : 0;
    const seconds = this.decodingSince === null ? 0 : (performance.now() - this.decodingSince) / 1000;
    const imagesPerSecond = seconds > 1 && done > 0 ? done / seconds : null;
    return {
      dataset: this.dataset,
      jobName: this.jobName,
      phase: decoding.length > 0 ? 'decoding' : 'extracting',
      done,
      total,
      fraction: total > 0 ? done / total : 0,
      imagesPerSecond,
      etaSeconds: imagesPerSecond && total > 0 ? (total - done) / imagesPerSecond : null,
    };
  }
}

/**
 * Datasets being prepared for submitted jobs, in this coordinator: decoding CIFAR-10's 60,000 JPEGs
 * takes tens of seconds the first time, which the console and the dashboard should show rather than
 * go quiet. Held in memory: a preparation lasts only as long as the POST /jobs that asked for it.
 */
@Injectable()
export class DatasetPreparations {
  private readonly active = new Set<Preparation>();
  private observer: PreparationObserver | null = null;

  /** Where progress goes besides list(): the console. */
  observe(observer: PreparationObserver): void {
    this.observer = observer;
  }

  /** Runs `prepare` with a listener that records its progress, listed until it settles. */
  async track<T>(
    dataset: string,
    jobName: string,
    prepare: (onProgress: DatasetProgressListener) => Promise<T>,
  ): Promise<T> {
    const preparation = new Preparation(dataset, jobName);
    this.active.add(preparation);
    let succeeded = false;
    try {
      const prepared = await prepare((progress) => {
        preparation.record(progress);
        this.observer?.progressed(preparation.view());
      });
      succeeded = true;
      return prepared;
    } finally {
      this.active.delete(preparation);
      this.observer?.ended(preparation.view(), succeeded);
    }
  }

  list(): DatasetPreparationView[] {
    return [...this.active].map((p) => p.view());
  }
}
