import { ChildProcess, spawn } from 'node:child_process';
import { DEFAULT_COORDINATOR_HOST } from '@resnet/protocol';
import { stopProcess } from './stop-process';

/**
 * The coordinator as its own OS process: for `up`, whose console it shares (`stdio: 'inherit'`),
 * and for tests that SIGKILL it and start another. It listens on HOST (default loopback) at `port`.
 */
export class CoordinatorProcess {
  private child: ChildProcess | null = null;
  private readonly env: NodeJS.ProcessEnv;
  /** Where this process reaches it: loopback when it listens on every interface. */
  readonly url: string;

  /** `main`: the coordinator's compiled entry point; `env` goes over this process's environment. */
  constructor(
    private readonly main: string,
    readonly port: number,
    env: NodeJS.ProcessEnv,
    private readonly stdio: 'inherit' | 'ignore' = 'ignore',
  ) {
    this.env = { HOST: DEFAULT_COORDINATOR_HOST, ...process.env, ...env, PORT: String(port) };
    const host = this.env.HOST === '0.0.0.0' ? '127.0.0.1' : this.env.HOST;
    this.url = `http://${host}:${port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [this.main], { env: this.env, stdio: this.stdio });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/jobs`)).ok) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null)
        throw new Error(`coordinator exited with code ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error('coordinator did not answer within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Freezes it (SIGSTOP) as a long pause or a network partition would, or thaws it (SIGCONT);
   * unlike stop(), waits for nothing.
   */
  freeze(frozen: boolean): void {
    this.child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Stops it as Ctrl-C would: it finishes what it writes, then exits. */
  close(): Promise<void> {
    return this.stop();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopProcess(child, signal);
  }
}
