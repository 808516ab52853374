import { ChildProcess } from 'node:child_process';

/** Sends `signal` to a child process and resolves once it has exited (at once if it already had). */
export async function stopProcess(
  child: ChildProcess | null | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
