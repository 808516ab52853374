import { Command } from 'commander';
import { JobView, partitionCountOf, precisionOf, usesLocalSgd } from '@resnet/job';
import {
  apiTokenOption,
  CoordinatorClient,
  CoordinatorOptions,
  coordinatorUrlOption,
} from '../coordinator-client';
import { formatAgo } from '../time-format';
import { textTable } from '../text-table';

export function statusCommand(): Command {
  return new Command('status')
    .description('List the jobs, or show one job in detail')
    .argument('[id]', 'job id')
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .option('--json', 'print the API response as JSON')
    .action(async (id: string | undefined, opts: CoordinatorOptions & { json?: boolean }) => {
      const client = new CoordinatorClient(opts);
      if (!id) {
        const jobs = await client.jobs();
        if (opts.json) return console.log(JSON.stringify(jobs, null, 2));
        console.log(jobs.length ? jobsTable(jobs) : 'no jobs yet: submit one with `resnet-cluster submit`');
        return;
      }
      const [job, metrics] = await Promise.all([client.job(id), client.metrics(id)]);
      if (opts.json) return console.log(JSON.stringify({ ...job, metrics }, null, 2));
      const last = metrics.steps.at(-1);
      const test = metrics.evals.at(-1);
      const d = job.spec.dataset;
      const lines: Array<[string, string | undefined]> = [
        ['job', `${job.id}  ${job.name}`],
        ['status', statusText(job) + (job.error ? `: ${job.error}` : '')],
        ['priority', String(job.priority)],
        ['model', `${job.spec.model} (${job.spec.shortcut} shortcuts)`],
        [
          'dataset',
          d.kind !== 'synthetic'
            ? d.path
            : `synthetic, ${d.trainSize} train / ${d.testSize} test images of ${d.imageSize}px, ${d.numClasses} classes`,
        ],
        [
          'step',
          `${job.step}/${job.totalSteps}  epoch ${job.epoch.toFixed(2)}  ${(job.progress * 100).toFixed(1)}%`,
        ],
        [
          'batch',
          `${job.spec.batchSize} in ${job.spec.shardsPerStep} shards` +
            (usesLocalSgd(job.spec) ? `, ${job.spec.localSteps} local steps per round` : '') +
            (partitionCountOf(job.spec) > 1
              ? `, aggregated in ${partitionCountOf(job.spec)} partitions`
              : '') +
            `, peak lr ${job.spec.schedule.lr} (${job.spec.schedule.decay})`,
        ],
        ['precision', precisionOf(job.spec)],
        [
          'last step',
          last &&
            `loss ${last.loss.toFixed(4)}  acc ${(last.accuracy * 100).toFixed(1)}%  lr ${last.lr.toFixed(4)}  ${last.imagesPerSecond.toFixed(1)} img/s`,
        ],
        [
          'last test',
          test &&
            `after step ${test.step}: loss ${test.loss.toFixed(4)}  acc ${(test.accuracy * 100).toFixed(2)}%`,
        ],
        ['updated', formatAgo(job.updatedAt)],
      ];
      for (const [key, value] of lines) if (value) console.log(`${key.padEnd(10)} ${value}`);
    });
}

/** The status, with the place in the queue of a queued job. */
function statusText(job: JobView): string {
  return job.queuePosition === undefined ? job.status : `${job.status} #${job.queuePosition}`;
}

function jobsTable(jobs: JobView[]): string {
  return textTable(
    ['ID', 'NAME', 'STATUS', 'STEP', 'EPOCH', 'PROGRESS', 'UPDATED'],
    jobs.map((j) => [
      j.id,
      j.name,
      statusText(j),
      `${j.step}/${j.totalSteps}`,
      j.epoch.toFixed(2),
      `${(j.progress * 100).toFixed(1)}%`,
      formatAgo(j.updatedAt),
    ]),
    new Set([3, 4, 5]),
  );
}
