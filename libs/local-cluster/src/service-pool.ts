import { ChildProcess, spawn } from 'node:child_process';
import { stopProcess } from './stop-process';

export interface ServicePoolOptions {
  /** The summation service's compiled entry point (see AppEntries); needed to start one. */
  readonly main?: string;
  readonly redisUrl: string;
  readonly prefix?: string;
  /** Unit lease (`--lease-ms`); tests shorten it so a dead service's units move on quickly. */
  readonly leaseMs?: number;
  /** Where service output goes: inherit to show it, ignore to hide it. */
  readonly stdio?: 'inherit' | 'ignore';
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Local summation service processes (`npm run aggregator`), each a separate OS process listening
 * on a free loopback port, as on another machine; `machine` labels say which "machine" each is on.
 */
export class ServicePool {
  private readonly children = new Map<string, ChildProcess>();

  constructor(private readonly options: ServicePoolOptions) {}

  start(name: string, machine = name): ChildProcess {
    const o = this.options;
    if (!o.main) throw new Error('no entry point for the summation service: pass AppEntries.aggregator');
    const args = [o.main, '--redis', o.redisUrl, '--name', name, '--machine', machine];
    args.push('--host', '127.0.0.1', '--advertise', '127.0.0.1', '--port', '0');
    if (o.prefix) args.push('--prefix', o.prefix);
    if (o.leaseMs) args.push('--lease-ms', String(o.leaseMs));
    const child = spawn(process.execPath, args, {
      stdio: o.stdio ?? 'ignore',
      env: { ...process.env, ...o.env },
    });
    this.children.set(name, child);
    child.once('exit', () => this.children.delete(name));
    return child;
  }

  startMany(count: number, namePrefix = 'service'): void {
    for (let i = 1; i <= count; i++) this.start(`${namePrefix}-${i}`);
  }

  get pids(): number[] {
    return [...this.children.values()].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  get names(): string[] {
    return [...this.children.keys()];
  }

  /** The service's process, for a test that pauses it (SIGSTOP) or reads its id. */
  process(name: string): ChildProcess | undefined {
    return this.children.get(name);
  }

  async kill(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopProcess(this.children.get(name), signal);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.names.map((n) => this.kill(n, signal)));
  }
}
