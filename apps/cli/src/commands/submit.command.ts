import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { PRECISIONS } from '@resnet/protocol';
import {
  apiTokenOption,
  CoordinatorClient,
  CoordinatorOptions,
  coordinatorUrlOption,
} from '../coordinator-client';
import { followJob } from '../job-follower';
import { number } from '../option-parsers';

interface SubmitOptions extends CoordinatorOptions {
  file?: string;
  name?: string;
  model?: string;
  data?: string;
  epochs?: number;
  batchSize?: number;
  shardsPerStep?: number;
  localSteps?: number;
  partitions?: number;
  precision?: string;
  aggregation?: string;
  units?: number;
  foldGroup?: number;
  lr?: number;
  maxSteps?: number;
  seed?: number;
  priority?: number;
  weight?: number;
  follow?: boolean;
}

export function submitCommand(): Command {
  return new Command('submit')
    .description('Submit a training job to a running coordinator')
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .option('--file <job.json>', 'job request as JSON (the body of POST /jobs); flags override its fields')
    .option('--name <name>', 'job name')
    .option('--model <name>', 'resnet20, resnet32, … resnet1202, resnet18 … resnet152 (default resnet20)')
    .option('--data <path>', 'dataset folder or .tar.gz under DATA_ROOT (default: synthetic data)')
    .option('--epochs <n>', 'epochs', number)
    .option('--batch-size <n>', 'images per step over all shards', number)
    .option('--shards-per-step <n>', 'shards each step is split into', number)
    .option(
      '--local-steps <n>',
      'local SGD: steps each shard takes between synchronisations (default 1)',
      number,
    )
    .option(
      '--partitions <n>',
      'parts the model is split into for aggregation; on a Redis Cluster, one per master (default 1)',
      number,
    )
    .addOption(
      new Option(
        '--precision <precision>',
        'what workers compute in: bf16 is mixed precision on onednn workers with native bf16 (default fp32)',
      ).choices(PRECISIONS),
    )
    .addOption(
      new Option(
        '--aggregation <where>',
        'where gradients are summed: the coordinator, or summation services (npm run aggregator) (default coordinator)',
      ).choices(['coordinator', 'services']),
    )
    .option(
      '--units <n>',
      'with --aggregation services: units the model is cut into (default 2 per live service, at most 4 MB each)',
      number,
    )
    .option(
      '--fold-group <n>',
      'shards summed in order within groups of this many, then the groups in order (default shards per step)',
      number,
    )
    .option('--lr <rate>', 'peak learning rate', number)
    .option('--max-steps <n>', 'stop after this many steps', number)
    .option('--seed <n>', 'seed for initial weights and data order', number)
    .option('--priority <n>', 'queue priority: higher starts first and preempts lower (default 0)', number)
    .option('--weight <n>', 'share of the workers against other running jobs (default 1)', number)
    .option('--follow', 'show a progress bar with the loss until the job ends')
    .addHelpText(
      'after',
      '\nExamples (with a coordinator running, e.g. `npm start -- --no-job`):\n' +
        '  npx resnet-cluster submit --epochs 3 --follow                                   # synthetic data\n' +
        '  npx resnet-cluster submit --data cifar10-images.tar.gz --epochs 5 --batch-size 128 --follow\n' +
        "(--data is relative to the coordinator's DATA_ROOT, default ./data)",
    )
    .action(async (opts: SubmitOptions) => {
      const client = new CoordinatorClient(opts);
      const job = await client.submit(requestBody(opts));
      console.log(
        `submitted job ${job.id}: ${job.name}, ${job.totalSteps} steps; dashboard ${client.baseUrl}/#job=${job.id}`,
      );
      if (!opts.follow) return;
      const final = await followJob(client, job.id, 'bar');
      console.log(
        `job ${final.id} ${final.status} at step ${final.step}/${final.totalSteps}${final.error ? `: ${final.error}` : ''}`,
      );
      if (final.status !== 'completed') process.exitCode = 1;
    });
}

function requestBody(opts: SubmitOptions): Record<string, unknown> {
  const body: Record<string, unknown> = opts.file ? readJobFile(opts.file) : {};
  const flags: Record<string, unknown> = {
    name: opts.name,
    model: opts.model,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    shardsPerStep: opts.shardsPerStep,
    localSteps: opts.localSteps,
    partitions: opts.partitions,
    precision: opts.precision,
    aggregation: opts.aggregation,
    units: opts.units,
    foldGroup: opts.foldGroup,
    lr: opts.lr,
    maxSteps: opts.maxSteps,
    seed: opts.seed,
    priority: opts.priority,
    weight: opts.weight,
  };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) body[key] = value;
  if (opts.data) body.dataset = { kind: 'folder', path: opts.data };
  body.dataset ??= { kind: 'synthetic' };
  return body;
}

function readJobFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object: the body of POST /jobs`);
  }
  return parsed as Record<string, unknown>;
}
