/**
 * `npm run train:cifar`: the paper's ResNet-20 on the real CIFAR-10 through the project's own REST
 * API, with two local workers, and the recipe of ../shared/bench/torch_cifar_reference.py: batch 128,
 * SGD momentum 0.9, weight decay 1e-4, peak lr 0.1 with linear warmup over the first tenth of the
 * steps then cosine to zero, pad-4 crop + flip, per-channel normalisation, 5 epochs. Writes the
 * per-epoch table and the metrics to docs/, then plots them. EPOCHS, WORKERS, DATA_ROOT and
 * CIFAR_ARCHIVE override the defaults (a shorter run: EPOCHS=1).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalMetrics, StepMetrics } from '@resnet/protocol';
import { LocalCluster } from '@resnet/local-cluster';
import { startCoordinatorFromEnv } from '../apps/coordinator/src/bootstrap';
import { APP_ENTRIES } from './app-entries';

const ROOT = path.resolve(__dirname, '../..');
const EPOCHS = Number(process.env.EPOCHS ?? 5);
const WORKERS = Number(process.env.WORKERS ?? 2);
const DATA_ROOT = process.env.DATA_ROOT ?? path.resolve(ROOT, '../shared/data');
const ARCHIVE = process.env.CIFAR_ARCHIVE ?? 'cifar10-images.tar.gz';
/**
 * Test accuracy after each epoch of the PyTorch reference run with the same number of epochs (2
 * threads on this machine): the schedule's warmup and cosine span the whole run, so a 1-epoch run
 * is compared with the 1-epoch reference (210 s), not with epoch 1 of the 5-epoch one (705 s).
 */
const PYTORCH_BY_EPOCHS: Readonly<Record<number, readonly number[]>> = {
  1: [0.4931],
  5: [0.4281, 0.5624, 0.6821, 0.7537, 0.7677],
};
const PYTORCH = PYTORCH_BY_EPOCHS[EPOCHS] ?? [];

async function main(): Promise<void> {
  const cluster = await LocalCluster.start({
    entries: APP_ENTRIES,
    workers: WORKERS,
    dataRoot: DATA_ROOT,
    backend: process.env.BACKEND,
    coordinator: startCoordinatorFromEnv,
    coordinatorEnv: { LOG_LEVEL: 'warn' },
  });
  const { url } = cluster;
  const started = Date.now();
  try {
    const res = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'ResNet-20 CIFAR-10 recipe',
        model: 'resnet20',
        dataset: { kind: 'folder', path: ARCHIVE },
        batchSize: 128,
        shardsPerStep: WORKERS,
        epochs: EPOCHS,
        lr: 0.1,
        momentum: 0.9,
        weightDecay: 1e-4,
        schedule: { decay: 'cosine', warmupEpochs: EPOCHS / 10 },
        augment: { padCrop: 4, flip: true },
        evalEvery: 1,
      }),
    });
    const job = await res.json();
    if (res.status !== 201) throw new Error(`job rejected: ${JSON.stringify(job)}`);
    console.log(`job ${job.id}: ${job.totalSteps} steps on ${WORKERS} workers`);
    let printed = 0;
    for (;;) {
      const state = await (await fetch(`${url}/jobs/${job.id}`)).json();
      const { evals } = (await (await fetch(`${url}/jobs/${job.id}/metrics`)).json()) as {
        evals: EvalMetrics[];
      };
      for (const e of evals.slice(printed)) {
        console.log(
          `epoch ${e.epoch.toFixed(0)}: test accuracy ${(100 * e.accuracy).toFixed(2)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
      printed = evals.length;
      if (state.status === 'completed') break;
      if (state.status !== 'running' && state.status !== 'queued')
        throw new Error(`job ${state.status}: ${state.error}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    const seconds = (Date.now() - started) / 1000;
    const { steps, evals } = (await (await fetch(`${url}/jobs/${job.id}/metrics`)).json()) as {
      steps: StepMetrics[];
      evals: EvalMetrics[];
    };
    const backends = [
      ...new Set(
        ((await (await fetch(`${url}/workers`)).json()) as { backend: string }[]).map((w) => w.backend),
      ),
    ];
    const lines = [
      `ResNet-20 on CIFAR-10, ${EPOCHS} epochs, ${WORKERS} workers (${backends.join(', ')}), ${seconds.toFixed(0)} s in all`,
      '',
      PYTORCH.length
        ? `PyTorch reference: torch_cifar_reference.py with the same ${EPOCHS}-epoch schedule`
        : `no PyTorch reference run of ${EPOCHS} epochs to compare with (there are ${Object.keys(PYTORCH_BY_EPOCHS).join(' and ')})`,
      '',
      '| epoch | test accuracy (ours) | test accuracy (PyTorch reference) | train loss (last step) |',
      '| --- | --- | --- | --- |',
      ...evals.map((e, i) => {
        const last = steps.filter((s) => s.epoch <= e.epoch).pop();
        const torch = PYTORCH[i] === undefined ? '–' : `${(100 * PYTORCH[i]).toFixed(2)}%`;
        return `| ${e.epoch.toFixed(0)} | ${(100 * e.accuracy).toFixed(2)}% | ${torch} | ${last?.loss.toFixed(3)} |`;
      }),
    ];
    console.log(`\n${lines.join('\n')}`);
    const docs = path.join(ROOT, 'docs');
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, 'cifar10-resnet20.md'), `${lines.join('\n')}\n`);
    const metricsFile = path.join(docs, 'cifar10-resnet20-metrics.json');
    const reference = PYTORCH.map((accuracy, i) => ({ epoch: i + 1, accuracy }));
    fs.writeFileSync(metricsFile, JSON.stringify({ steps, evals, reference }));
    spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts/plot-training.mjs'), metricsFile, path.join(docs, 'cifar10-resnet20.png')],
      {
        stdio: 'inherit',
      },
    );
  } finally {
    await cluster.stop();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
