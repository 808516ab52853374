import { ChildProcess, spawn } from 'node:child_process';
import { stopProcess } from './stop-process';

/** What every pool's processes are started with. */
export interface ProcessPoolOptions {
  readonly redisUrl: string;
  readonly prefix?: string;
  /** Where the processes' output goes: inherit to show it, ignore to hide it. */
  readonly stdio?: 'inherit' | 'ignore';
  readonly env?: NodeJS.ProcessEnv;
}

/** Named Node.js child processes of one kind (workers, summation services), each as on another machine. */
export abstract class ProcessPool {
  private readonly children = new Map<string, ChildProcess>();

  /** `namePrefix-1` … `namePrefix-count`, named after the kind when no prefix is given. */
  protected abstract readonly defaultNamePrefix: string;

  /** Starts one process of the pool's kind under `name`. */
  abstract start(name: string): ChildProcess;

  startMany(count: number, namePrefix = this.defaultNamePrefix): void {
    for (let i = 1; i <= count; i++) this.start(`${namePrefix}-${i}`);
  }

  /** Starts `node <args>` under `name`; it leaves the pool when it exits. */
  protected spawnNamed(
    name: string,
    args: readonly string[],
    stdio: 'inherit' | 'ignore' | undefined,
    env: NodeJS.ProcessEnv | undefined,
  ): ChildProcess {
    const child = spawn(process.execPath, args, {
      stdio: stdio ?? 'ignore',
      env: { ...process.env, ...env },
    });
    this.children.set(name, child);
    child.once('exit', () => this.children.delete(name));
    return child;
  }

  /** Process ids of the running processes. */
  get pids(): number[] {
    return [...this.children.values()].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  get names(): string[] {
    return [...this.children.keys()];
  }

  /** The named process, for a test that pauses it (SIGSTOP) or reads its pid. */
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
