import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';

/**
 * Runs `work` (a job's training loop) with log lines that carry the job, outside the log context of
 * the request that happened to start it: otherwise every line of a loop started by POST /jobs
 * would carry that request's `req` for the rest of its life. Without a pino root logger (unit
 * tests) it only leaves the request's context.
 */
export function runInJobLogContext<T>(jobId: string, work: () => Promise<T>): Promise<T> {
  const root = PinoLogger.root as PinoLogger['logger'] | undefined;
  return root ? storage.run(new Store(root.child({ job: jobId })), work) : storage.exit(work);
}
