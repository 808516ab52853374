import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { LayersModelFiles, WEIGHTS_FILE } from '@resnet/model';
import { JobMetrics } from '@resnet/protocol';
import { TrainingJobSpec } from '@resnet/job';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';

export interface CheckpointManifest {
  readonly jobId: string;
  readonly step: number;
  readonly spec: TrainingJobSpec;
  readonly createdAt: number;
}

export interface Checkpoint {
  readonly manifest: CheckpointManifest;
  /** Exact weights (parameters and running statistics) as the job's own tensor message. */
  readonly weights: Buffer;
  /** SGD momentum buffer, as a tensor message. */
  readonly velocity: Buffer;
  readonly metrics: JobMetrics;
}

/** How many checkpoints of a job are kept on disk; older ones are deleted. */
const KEEP_PER_JOB = 3;
const STEP_FOLDER = /^step-(\d+)$/;

/**
 * Checkpoints on disk: `<dir>/<jobId>/step-<N>/` holds the TF.js LayersModel (model.json and
 * weights.bin, loadable with tf.loadLayersModel), the exact weights and the optimizer state for
 * resuming bit for bit, the job spec and its metrics so far.
 */
@Injectable()
export class CheckpointStore {
  constructor(@Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig) {}

  folderOf(jobId: string, step: number): string {
    return path.join(this.config.checkpointDir, jobId, `step-${String(step).padStart(7, '0')}`);
  }

  async save(checkpoint: Checkpoint, model: LayersModelFiles): Promise<string> {
    const { jobId, step } = checkpoint.manifest;
    const folder = this.folderOf(jobId, step);
    // Written beside, then renamed: a crash never leaves a half-written checkpoint under a real name.
    const staging = `${folder}.partial-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { recursive: true });
    await Promise.all([
      fs.writeFile(path.join(staging, 'model.json'), JSON.stringify(model.modelJson)),
      fs.writeFile(path.join(staging, WEIGHTS_FILE), model.weights),
      fs.writeFile(path.join(staging, 'weights.rnt'), checkpoint.weights),
      fs.writeFile(path.join(staging, 'optimizer.rnt'), checkpoint.velocity),
      fs.writeFile(path.join(staging, 'metrics.json'), JSON.stringify(checkpoint.metrics)),
      fs.writeFile(path.join(staging, 'checkpoint.json'), JSON.stringify(checkpoint.manifest, null, 2)),
    ]);
    await fs.rm(folder, { recursive: true, force: true });
    await fs.rename(staging, folder);
    await this.prune(jobId);
    return folder;
  }

  /** Job ids that have at least one checkpoint. */
  async jobIds(): Promise<string[]> {
    try {
      return (await fs.readdir(this.config.checkpointDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async latestFolder(jobId: string): Promise<string | null> {
    const steps = await this.steps(jobId);
    return steps.length ? this.folderOf(jobId, steps[steps.length - 1]) : null;
  }

  /** Reads a checkpoint folder; `relative` is resolved inside the checkpoint directory only. */
  async load(relative: string): Promise<Checkpoint> {
    const root = path.resolve(this.config.checkpointDir);
    const folder = path.resolve(root, relative);
    if (!folder.startsWith(root + path.sep)) {
      throw new Error(`checkpoint "${relative}" is outside the checkpoint directory ${root}`);
    }
    const read = (name: string) => fs.readFile(path.join(folder, name));
    try {
      const [manifest, weights, velocity, metrics] = await Promise.all([
        read('checkpoint.json'),
        read('weights.rnt'),
        read('optimizer.rnt'),
        read('metrics.json'),
      ]);
      return {
        manifest: JSON.parse(manifest.toString()),
        weights,
        velocity,
        metrics: JSON.parse(metrics.toString()),
      };
    } catch (err) {
      throw new Error(`cannot read checkpoint ${folder}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async steps(jobId: string): Promise<number[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(path.join(this.config.checkpointDir, jobId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      .map((e) => STEP_FOLDER.exec(e))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  private async prune(jobId: string): Promise<void> {
    const steps = await this.steps(jobId);
    await Promise.all(
      steps
        .slice(0, -KEEP_PER_JOB)
        .map((s) => fs.rm(this.folderOf(jobId, s), { recursive: true, force: true })),
    );
  }
}
