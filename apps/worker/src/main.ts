import { workerCommand } from './worker-options';
import { WorkerProcess } from './worker-process';

workerCommand(process.env, async (options) => {
  const worker = new WorkerProcess(options);
  try {
    await worker.start();
  } catch (err) {
    console.error(`worker failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
  process.once('SIGTERM', () => void worker.stop('SIGTERM'));
  process.once('SIGINT', () => void worker.stop('SIGINT'));
  process.exit(await worker.exited);
}).parse();
