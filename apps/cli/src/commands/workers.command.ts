import { Command } from 'commander';
import {
  apiTokenOption,
  CoordinatorClient,
  CoordinatorOptions,
  coordinatorUrlOption,
} from '../coordinator-client';
import { formatAgo } from '../time-format';
import { textTable } from '../text-table';

/** `workers release <id>`: the coordinator's options may come before `release` or after it. */
function releaseCommand(): Command {
  return new Command('release')
    .description(
      'Lift a quarantined worker’s quarantine and forget its rejected results (restart it if it exited)',
    )
    .argument('<id>', 'the worker’s id, as `workers` lists it')
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .action(async (id: string, _opts: CoordinatorOptions, command: Command) => {
      const released = await new CoordinatorClient(
        command.optsWithGlobals<CoordinatorOptions>(),
      ).releaseWorker(id);
      console.log(
        released.wasQuarantined
          ? `worker ${id} released: it may take shards again`
          : `worker ${id} was not quarantined; its rejected results are forgotten`,
      );
    });
}

export function workersCommand(): Command {
  return new Command('workers')
    .description(
      'List the workers: alive, or gone within the last hour; `workers release <id>` lifts a quarantine',
    )
    .addCommand(releaseCommand())
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .option('--json', 'print the API response as JSON')
    .action(async (opts: CoordinatorOptions & { json?: boolean }) => {
      const workers = await new CoordinatorClient(opts).workers();
      if (opts.json) return console.log(JSON.stringify(workers, null, 2));
      if (!workers.length) return console.log('no workers have joined: start some with `npm run worker`');
      console.log(
        textTable(
          ['ID', 'HOST', 'BACKEND', 'DEVICE', 'PRECISIONS', 'IMG/S', 'SHARD', 'HEARTBEAT', 'STATE'],
          workers.map((w) => [
            w.id,
            w.host,
            w.backend,
            w.device,
            w.precisions.join(','),
            w.imagesPerSecond === null ? '-' : w.imagesPerSecond.toFixed(1),
            w.currentShard ?? 'idle',
            formatAgo(w.lastSeen),
            w.quarantined ? 'quarantined' : w.alive ? 'alive' : 'left',
          ]),
          new Set([5]),
        ),
      );
    });
}
