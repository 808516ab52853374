import { BackendChoice, DeviceChoice } from '@resnet/engine';

/** The worker's command-line options as commander hands them over (numbers as text). */
export interface WorkerOptions {
  /**
   * Redis URL shared with the coordinator (`--redis`): redis://host:port, or
   * redis+cluster://host:port,host:port for a Redis Cluster.
   * @defaultValue REDIS_URL, else DEFAULT_REDIS_URL (redis://127.0.0.1:6379)
   */
  readonly redis: string;
  /**
   * TensorFlow.js backend (`--backend`); `auto` picks the fastest that loads.
   * @defaultValue 'auto'
   */
  readonly backend: BackendChoice;
  /**
   * Refuse to start unless the backend runs on this device (`--device`).
   * @defaultValue 'cpu'
   */
  readonly device: DeviceChoice;
  /**
   * Folder that dataset paths are relative to (`--data-root`).
   * @defaultValue DATA_ROOT, else 'data'
   */
  readonly dataRoot: string;
  /**
   * Redis key prefix shared with the coordinator (`--prefix`); on a Redis Cluster it needs a hash tag.
   * @defaultValue REDIS_PREFIX, else DEFAULT_REDIS_PREFIX ('rc'), or '{rc}' on a Redis Cluster
   */
  readonly prefix?: string;
  /**
   * Worker id shown by GET /workers (`--name`).
   * @defaultValue `<host>-<pid>`
   */
  readonly name?: string;
  /**
   * Shard lock duration in ms (`--lock-ms`): longer than the slowest shard; a dead worker's shard
   * moves on after it.
   * @defaultValue '60000'
   */
  readonly lockMs: string;
  /**
   * Threads of the onednn backend (`--threads`); one worker process per core is the best use of a machine.
   * @defaultValue '1'
   */
  readonly threads: string;
  /**
   * Let `--backend webgpu` run on a software adapter such as SwiftShader (`--allow-fallback-adapter`):
   * CPU emulation of a GPU, for tests without one.
   * @defaultValue false
   */
  readonly allowFallbackAdapter: boolean;
  /**
   * Benchmarks of coordination: sleep this long per shard instead of computing (`--simulate-compute-ms`).
   * @defaultValue unset: the worker computes
   */
  readonly simulateComputeMs?: string;
  /**
   * A diagnostic for tests (`--diagnostic-hide-bf16`): advertise fp32 only, as a CPU without native
   * bf16 would, so that bf16 jobs are routed around this worker.
   * @defaultValue false
   */
  readonly diagnosticHideBf16: boolean;
}

/** The defaults of the options that have fixed ones (the others come from the environment). */
export const WORKER_DEFAULTS = {
  backend: 'auto',
  device: 'cpu',
  dataRoot: 'data',
  lockMs: '60000',
  threads: '1',
  allowFallbackAdapter: false,
  diagnosticHideBf16: false,
} as const satisfies Partial<WorkerOptions>;
