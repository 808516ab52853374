import { Injectable } from '@nestjs/common';

/**
 * How the jobs running at once share the workers: in proportion to their weights. Each job may have
 * only its share of the alive workers' count of shards on the queue at a time (at least one), and
 * enqueues its next shard as one completes, so the workers' time splits by weight however fast each
 * job's steps turn over. A job running alone is not held back.
 */
@Injectable()
export class ShardShares {
  private readonly weights = new Map<string, number>();

  join(jobId: string, weight: number): void {
    this.weights.set(jobId, weight);
  }

  leave(jobId: string): void {
    this.weights.delete(jobId);
  }

  /** Whether other jobs share the workers with this one. */
  shared(jobId: string): boolean {
    return this.weights.size > 1 || (this.weights.size === 1 && !this.weights.has(jobId));
  }

  /** How many of the job's shards may be on the queue at once, out of `workers` alive (weight 1 if it never joined). */
  quota(jobId: string, workers: number): number {
    const weight = this.weights.get(jobId) ?? 1;
    let total = this.weights.has(jobId) ? 0 : weight;
    for (const w of this.weights.values()) total += w;
    return Math.max(1, Math.floor((workers * weight) / total));
  }
}
