import { Inject, Injectable } from '@nestjs/common';
import { JobMetrics, RedisKeys, StepMetrics } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';
import { REDIS } from './redis.providers';

/**
 * Ranged reads of a job's metric lists, so that live views fetch only what is new rather than a
 * whole history that grows by one entry per step.
 */
@Injectable()
export class StepMetricsReader {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async lastSteps(jobId: string, count: number): Promise<StepMetrics[]> {
    return parse(await this.redis.lrange(this.keys.stepMetrics(jobId), -count, -1));
  }

  /** Step entries after the first `stepsSeen`. */
  async stepsSince(jobId: string, stepsSeen: number): Promise<StepMetrics[]> {
    return parse(await this.redis.lrange(this.keys.stepMetrics(jobId), stepsSeen, -1));
  }

  /** Entries after the first `stepsSeen` step and `evalsSeen` eval entries. */
  async since(jobId: string, stepsSeen: number, evalsSeen: number): Promise<JobMetrics> {
    const [steps, evals] = await Promise.all([
      this.redis.lrange(this.keys.stepMetrics(jobId), stepsSeen, -1),
      this.redis.lrange(this.keys.evalMetrics(jobId), evalsSeen, -1),
    ]);
    return { steps: parse(steps), evals: parse(evals) };
  }
}

function parse<T>(entries: string[]): T[] {
  return entries.map((e) => JSON.parse(e) as T);
}
