import { Command } from 'commander';
import {
  apiTokenOption,
  CoordinatorClient,
  CoordinatorOptions,
  coordinatorUrlOption,
} from '../coordinator-client';
import { formatAgo } from '../time-format';
import { textTable } from '../text-table';

export function workersCommand(): Command {
  return new Command('workers')
    .description('List the workers: alive, or gone within the last hour')
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .option('--json', 'print the API response as JSON')
    .action(async (opts: CoordinatorOptions & { json?: boolean }) => {
      const workers = await new CoordinatorClient(opts).workers();
      if (opts.json) return console.log(JSON.stringify(workers, null, 2));
      if (!workers.length) return console.log('no workers have joined: start some with `npm run worker`');
      console.log(
        textTable(
          ['ID', 'HOST', 'BACKEND', 'DEVICE', 'IMG/S', 'SHARD', 'HEARTBEAT', 'STATE'],
          workers.map((w) => [
            w.id,
            w.host,
            w.backend,
            w.device,
            w.imagesPerSecond === null ? '-' : w.imagesPerSecond.toFixed(1),
            w.currentShard ?? 'idle',
            formatAgo(w.lastSeen),
            w.alive ? 'alive' : 'left',
          ]),
          new Set([4]),
        ),
      );
    });
}
