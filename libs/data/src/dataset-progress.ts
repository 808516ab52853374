/** How far preparing one split of a dataset has come. */
export interface DatasetProgress {
  /** Which split. */
  readonly split: 'train' | 'test' | 'val';
  /** `extracting` an archive (no counts yet), then `decoding` its images into memory. */
  readonly phase: 'extracting' | 'decoding';
  /** Images decoded so far. */
  readonly done: number;
  /** Images to decode; 0 while extracting. */
  readonly total: number;
}

/** Called as a dataset is prepared: often (once per image), so it must be cheap. */
export type DatasetProgressListener = (progress: DatasetProgress) => void;
