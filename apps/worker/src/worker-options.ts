import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES, BackendChoice, DeviceChoice } from '@resnet/engine';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL } from '@resnet/protocol';

/** The worker's settings, parsed and checked once from its command line and environment. */
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
   * @defaultValue 60000
   */
  readonly lockMs: number;
  /**
   * Threads of the onednn backend (`--threads`); one worker process per core is the best use of a machine.
   * @defaultValue 1
   */
  readonly threads: number;
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
  readonly simulateComputeMs?: number;
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
  lockMs: 60_000,
  threads: 1,
  allowFallbackAdapter: false,
  diagnosticHideBf16: false,
} as const satisfies Partial<WorkerOptions>;

/**
 * A parser of a whole number of at least `min`, whose error tells what the flag takes; commander
 * puts the flag and the value in front (option '--lock-ms <ms>' argument 'abc' is invalid).
 */
function wholeNumber(min: number, takes: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`It takes ${takes}.`);
    return n;
  };
}

/**
 * The worker's command line: `action` hears the parsed options. The environment gives the defaults
 * of --redis, --data-root and --prefix.
 */
export function workerCommand(
  env: NodeJS.ProcessEnv,
  action: (options: WorkerOptions) => Promise<void> | void,
): Command {
  return (
    new Command('worker')
      .description('Join a training cluster: compute ResNet gradients for shard jobs from the Redis queue')
      .option(
        '--redis <url>',
        'Redis URL shared with the coordinator: redis://host:port, or redis+cluster://host:port,host:port for a Redis Cluster',
        env.REDIS_URL || DEFAULT_REDIS_URL,
      )
      .addOption(
        new Option('--backend <name>', 'TensorFlow.js backend')
          .choices(BACKEND_CHOICES)
          .default(WORKER_DEFAULTS.backend),
      )
      .addOption(
        new Option('--device <kind>', 'refuse to start unless the backend runs on this device')
          .choices(['cpu', 'gpu'])
          .default(WORKER_DEFAULTS.device),
      )
      .option(
        '--data-root <dir>',
        'folder that dataset paths are relative to',
        env.DATA_ROOT ?? WORKER_DEFAULTS.dataRoot,
      )
      .option(
        '--prefix <prefix>',
        `Redis key prefix shared with the coordinator (default ${DEFAULT_REDIS_PREFIX}; {${DEFAULT_REDIS_PREFIX}} on a Redis Cluster, where it needs a {hash tag})`,
        env.REDIS_PREFIX,
      )
      .option('--name <id>', 'worker id shown by GET /workers (default host-pid)')
      .option(
        '--allow-fallback-adapter',
        'let --backend webgpu run on a software adapter (SwiftShader: CPU emulation, for tests without a GPU)',
        WORKER_DEFAULTS.allowFallbackAdapter,
      )
      .option(
        '--threads <n>',
        'threads for the onednn backend (default 1: run one worker process per core)',
        wholeNumber(1, 'a whole number of threads, 1 or more, such as --threads 4'),
        WORKER_DEFAULTS.threads,
      )
      .option(
        '--lock-ms <ms>',
        "shard lock duration: longer than the slowest shard; a dead worker's shard moves on after it",
        // Stalled shards are looked for every half lock: below a second that is a Redis call per few ms.
        wholeNumber(
          1000,
          'whole milliseconds, 1000 or more and longer than the slowest shard, such as --lock-ms 60000',
        ),
        WORKER_DEFAULTS.lockMs,
      )
      // For benchmarks of coordination: real weights and gradient traffic, no model (see SimulatedShardProcessor).
      .addOption(
        new Option('--simulate-compute-ms <ms>', 'sleep this long per shard instead of computing')
          .argParser(wholeNumber(0, 'whole milliseconds, 0 or more, such as --simulate-compute-ms 50'))
          .hideHelp(),
      )
      // For tests of routing: a worker as on a CPU without native bf16, which takes no shard of a bf16 job.
      .addOption(
        new Option('--diagnostic-hide-bf16', 'advertise fp32 only, even where the CPU has native bf16')
          .default(WORKER_DEFAULTS.diagnosticHideBf16)
          .hideHelp(),
      )
      .action((options: WorkerOptions) => action(options))
  );
}
