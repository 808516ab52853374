import { ChildProcess } from 'node:child_process';
import { ProcessPool, ProcessPoolOptions } from './process-pool';

export interface ServicePoolOptions extends ProcessPoolOptions {
  /** The summation service's compiled entry point (see AppEntries); needed to start one. */
  readonly main?: string;
  /** Unit lease (`--lease-ms`); tests shorten it so a dead service's units move on quickly. */
  readonly leaseMs?: number;
}

/**
 * Local summation service processes (`npm run aggregator`), each a separate OS process listening
 * on a free loopback port, as on another machine; `machine` labels say which "machine" each is on.
 */
export class ServicePool extends ProcessPool {
  constructor(private readonly options: ServicePoolOptions) {
    super();
  }

  protected readonly defaultNamePrefix = 'service';

  start(name: string, machine = name): ChildProcess {
    const o = this.options;
    if (!o.main) throw new Error('no entry point for the summation service: pass AppEntries.aggregator');
    const args = [o.main, '--redis', o.redisUrl, '--name', name, '--machine', machine];
    args.push('--host', '127.0.0.1', '--advertise', '127.0.0.1', '--port', '0');
    if (o.prefix) args.push('--prefix', o.prefix);
    if (o.leaseMs) args.push('--lease-ms', String(o.leaseMs));
    return this.spawnNamed(name, args, o.stdio, o.env);
  }
}
