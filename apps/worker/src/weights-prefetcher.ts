import { ModelLayouts, ModelWeights } from '@resnet/model';
import { ReusableBufferPool, VersionAnnouncement } from '@resnet/protocol';
import { PartitionedModel, PartitionedModelCodec } from '@resnet/job';
import { ServiceRoutes, ServiceUnits } from './service-units';
import { WorkerRepository } from './worker.repository';

interface Fetch {
  readonly jobId: string;
  readonly version: number;
  readonly model: PartitionedModel;
  readonly weights: Promise<ModelWeights>;
  /** Pulled from summation services: the next version's hashes and owners come with its tasks only. */
  readonly fromServices: boolean;
}

/** Where one fetch lands: a buffer per partition, and the gathered model when there are several. */
class FetchMemory {
  readonly messages = new ReusableBufferPool();
  private whole: ModelWeights | null = null;

  gathered(layouts: ModelLayouts): ModelWeights {
    if (this.whole?.params.length !== layouts.params.size || this.whole.state.length !== layouts.state.size)
      this.whole = {
        params: new Float32Array(layouts.params.size),
        state: new Float32Array(layouts.state.size),
      };
    return this.whole;
  }
}

/**
 * The weights versions a worker computes against, fetched and decoded once per version. When the
 * coordinator announces the version after v (v+1, or v+localSteps with local SGD) of the job
 * whose version v this worker holds (it does so as soon as the step's shards are queued), it is
 * fetched at once, without waiting for BullMQ to hand this worker its shard, so that the shard
 * finds it waiting. Workers that sat the last step out
 * fetch nothing ahead, so a pool larger than the shard count does not multiply the reads of every
 * version.
 *
 * A job on summation services has its versions pulled unit by unit from the units' owners (the
 * task's routes), each checked against the commit record's hash, rather than read from Redis.
 *
 * Versions are read into two buffers in turn (a big model's version is hundreds of megabytes), so
 * the weights get() hands out stay valid only until the fetch after next: copy what must outlive
 * that.
 */
export class WeightsPrefetcher {
  private held: Fetch | null = null;
  private readonly memory = [new FetchMemory(), new FetchMemory()];
  /** The last fetch into each buffer, which must end before the buffer is written again. */
  private readonly writing: (Promise<unknown> | null)[] = [null, null];
  private turn = 0;

  constructor(
    private readonly repo: WorkerRepository,
    private readonly units: ServiceUnits,
  ) {}

  /**
   * The version's weights and how long this call waited for them (near zero when prefetched).
   * `routes`: a job on summation services, whose units are pulled from their owners.
   */
  async get(
    jobId: string,
    version: number,
    model: PartitionedModel,
    routes?: ServiceRoutes,
  ): Promise<{ weights: ModelWeights; waitedMs: number }> {
    const started = performance.now();
    if (this.held?.jobId !== jobId || this.held.version !== version)
      this.fetch(jobId, version, model, routes);
    const weights = await this.held!.weights;
    return { weights, waitedMs: performance.now() - started };
  }

  /** Called for each message on the version channel. */
  announced({ jobId, version, previous }: VersionAnnouncement): void {
    if (this.held?.jobId === jobId && this.held.version === previous && !this.held.fromServices)
      this.fetch(jobId, version, this.held.model);
  }

  private fetch(jobId: string, version: number, model: PartitionedModel, routes?: ServiceRoutes): void {
    const slot = (this.turn = 1 - this.turn);
    const previous = this.writing[slot];
    const memory = this.memory[slot];
    const weights = (async () => {
      await previous?.catch(() => undefined);
      memory.messages.releaseAll();
      const { partitions, layouts } = model;
      // Partitions live on different Redis masters in a cluster: fetched side by side.
      const messages = await Promise.all(
        routes
          ? routes.units.map((route) => this.units.pull(jobId, version, routes.attempt, route))
          : partitions.map((p) =>
              this.repo.weights(jobId, version, p.index, partitions.length, memory.messages.next()),
            ),
      );
      const whole = partitions.length > 1 ? memory.gathered(layouts) : undefined;
      return PartitionedModelCodec.decodeWeights(partitions, layouts, messages, whole);
    })();
    this.writing[slot] = weights;
    const held = { jobId, version, model, weights, fromServices: routes !== undefined };
    this.held = held;
    // A failed fetch is not kept: the next get() tries again (and reports the error if it persists).
    weights.catch(() => {
      if (this.held === held) this.held = null;
    });
  }
}
