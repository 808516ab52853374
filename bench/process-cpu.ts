/**
 * CPU time per shard of each kind of process, ms: what `bench:scale -- --only gpu-speed
 * --aggregators N` measures, as plain numbers the step-time model (bench/step-time-model.ts) can be
 * fed from.
 */
export interface ProcessCpuPerShard {
  /** How the job was aggregated: in the coordinator, or by `services` summation service processes. */
  readonly aggregation: 'coordinator' | 'services';
  readonly services: number;
  readonly units: number;
  /** Shards per step (= workers). */
  readonly shards: number;
  /** The step period and the simulated compute in it, ms. */
  readonly periodMs: number;
  readonly computeMs: number;
  /** Per shard: one worker process's CPU, all services', the coordinator's, and each Redis's. */
  readonly worker: number;
  readonly service: number;
  readonly coordinator: number;
  readonly redis: readonly number[];
}
