import { Checkpoint } from '../../src/repositories/checkpoint.store';

/** Checkpoints in a map, keyed by `<jobId>/step-<N>` as the real store names its folders. */
export class FakeCheckpointStore {
  readonly checkpoints = new Map<string, Checkpoint>();

  put(checkpoint: Checkpoint): void {
    const { jobId, step } = checkpoint.manifest;
    this.checkpoints.set(`${jobId}/step-${step}`, checkpoint);
  }

  async load(relative: string): Promise<Checkpoint> {
    const checkpoint = this.checkpoints.get(relative);
    if (!checkpoint) throw new Error(`cannot read checkpoint ${relative}`);
    return checkpoint;
  }

  async jobIds(): Promise<string[]> {
    return [...new Set([...this.checkpoints.keys()].map((k) => k.split('/')[0]))];
  }

  async latestFolder(jobId: string): Promise<string | null> {
    const steps = [...this.checkpoints.values()]
      .filter((c) => c.manifest.jobId === jobId)
      .map((c) => c.manifest.step)
      .sort((a, b) => a - b);
    return steps.length ? `/checkpoints/${jobId}/step-${steps.at(-1)}` : null;
  }
}
