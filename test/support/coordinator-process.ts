import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { stopProcess } from '../../apps/cli/src/stop-process';

const COORDINATOR_MAIN = path.resolve(__dirname, '../../apps/coordinator/src/main.js');

/** The coordinator as its own OS process, so a test can SIGKILL it and start another. */
export class CoordinatorProcess {
  private child: ChildProcess | null = null;

  constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [COORDINATOR_MAIN], {
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
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

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopProcess(child, signal);
  }
}
