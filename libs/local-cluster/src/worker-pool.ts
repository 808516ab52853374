import { ChildProcess } from 'node:child_process';
import { ProcessPool, ProcessPoolOptions } from './process-pool';

export interface WorkerPoolOptions extends ProcessPoolOptions {
  /** The worker's compiled entry point (see AppEntries). */
  readonly main: string;
  readonly dataRoot?: string;
  readonly backend?: string;
  /** Let --backend webgpu use a software adapter (SwiftShader), for tests without a GPU. */
  readonly allowFallbackAdapter?: boolean;
  /** Shard lock duration; tests shorten it so a killed worker's shard moves on quickly. */
  readonly lockMs?: number;
  /** Benchmarks only: workers sleep this long per shard instead of computing (real weights and gradient traffic). */
  readonly simulateComputeMs?: number;
  /** Tests only: workers advertise fp32 alone, as on a CPU without native bf16 (--diagnostic-hide-bf16). */
  readonly diagnosticHideBf16?: boolean;
}

/** Local worker processes, each a separate OS process exactly as on another machine. */
export class WorkerPool extends ProcessPool {
  constructor(private readonly options: WorkerPoolOptions) {
    super();
  }

  protected readonly defaultNamePrefix = 'worker';

  start(name: string): ChildProcess {
    const o = this.options;
    const args = [o.main, '--redis', o.redisUrl, '--name', name];
    if (o.prefix) args.push('--prefix', o.prefix);
    if (o.dataRoot) args.push('--data-root', o.dataRoot);
    if (o.backend) args.push('--backend', o.backend);
    if (o.allowFallbackAdapter) args.push('--allow-fallback-adapter');
    if (o.lockMs) args.push('--lock-ms', String(o.lockMs));
    if (o.simulateComputeMs !== undefined) args.push('--simulate-compute-ms', String(o.simulateComputeMs));
    if (o.diagnosticHideBf16) args.push('--diagnostic-hide-bf16');
    return this.spawnNamed(name, args, o.stdio, o.env);
  }
}
