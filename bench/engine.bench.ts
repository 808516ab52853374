/**
 * `npm run bench:engine`: one worker's ResNet-20 training throughput (batch 128, 32×32 images,
 * setWeights + trainShard + SGD update) and peak RSS on every TensorFlow.js backend available here,
 * next to PyTorch's (throughput and peak RSS) on the same machine and thread count (../shared/bench/torch_resnet20_step.py);
 * then the peak RSS once it has evaluated 512 images in micro-batches of the training batch, as a
 * worker does, against its training peak.
 * A benchmark, not a test. Each backend runs in its own process, so that peak RSS is its own.
 *
 *   BENCH_STEPS=5      measured steps per run (after 2 warm-up steps), of which the median counts
 *   BENCH_ROUNDS=3     runs of ours and of PyTorch per row, alternating so that both see the same
 *                      load on a shared machine; the medians of the runs are reported
 *   BENCH_PROFILE=1    also print each backend's time per kernel (from its first run)
 *   BENCH_THREADS=1,2  thread counts for onednn (and PyTorch)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendChoice, initComputeBackend, onednnAvailable, ShardBatch, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { sgdStep } from '@resnet/optimizer';
import { KernelProfile } from './kernel-profile';

const BATCH = 128;
const EVAL_IMAGES = 512;
const SIDE = 32;
const WARMUP_STEPS = 2;
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const PROFILE = process.env.BENCH_PROFILE === '1';
const THREADS = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const PYTHON = '/usr/bin/python3';
const REPO_ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repo
const TORCH_SCRIPT = path.resolve(REPO_ROOT, '..', 'shared', 'bench', 'torch_resnet20_step.py');
const RESULT_PREFIX = 'ENGINE_BENCH_RESULT ';

interface Measurement {
  backend: string;
  device: string;
  threads: number;
  imagesPerSecond: number;
  peakRssMiB: number;
  /** After evaluating EVAL_IMAGES images as well. */
  evaluationPeakRssMiB: number;
  profile?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A fixed random batch: throughput does not depend on the pixel values. */
function randomBatch(count = BATCH): ShardBatch {
  let seed = 1;
  const uniform = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  return {
    x: Float32Array.from({ length: count * SIDE * SIDE * 3 }, () => 2 * uniform() - 1),
    y: Int32Array.from({ length: count }, () => Math.floor(uniform() * 10)),
    count,
    height: SIDE,
    width: SIDE,
  };
}

/** Child-process side: trains on one backend and reports its throughput and peak RSS. */
async function measure(backend: BackendChoice, threads: number): Promise<Measurement> {
  const compute = await initComputeBackend(backend, 'cpu', { threads });
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const layouts = layoutsOf(arch);
  let seed = 7;
  const weights = initialWeights(
    layouts,
    () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296,
  );
  const velocity = new Float32Array(layouts.params.size);
  const trainer = new ShardTrainer(arch);
  const batch = randomBatch();
  const sgd = { momentum: 0.9, weightDecay: 1e-4, nesterov: false };
  const step = async (): Promise<number> => {
    const started = performance.now();
    trainer.setWeights(weights);
    const result = await trainer.trainShard(batch);
    for (let i = 0; i < result.gradientSum.length; i++) result.gradientSum[i] /= BATCH;
    sgdStep(weights.params, result.gradientSum, velocity, 0.01, sgd);
    return (BATCH * 1000) / (performance.now() - started);
  };
  for (let i = 0; i < WARMUP_STEPS; i++) await step();
  const profile = PROFILE ? new KernelProfile(tf.getBackend()) : null;
  const rates: number[] = [];
  for (let i = 0; i < STEPS; i++) rates.push(await step());
  profile?.stop();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  // As a worker evaluates: micro-batches no larger than the training shard (here the whole batch).
  await trainer.evaluate(randomBatch(EVAL_IMAGES), BATCH);
  trainer.dispose();
  return {
    backend: compute.backend,
    device: compute.device,
    threads,
    imagesPerSecond: median(rates),
    peakRssMiB,
    evaluationPeakRssMiB: process.resourceUsage().maxRSS / 1024,
    profile: profile?.report(STEPS),
  };
}

function runChild(backend: string, threads: number): Measurement | string {
  const child = spawnSync(process.execPath, [__filename, '--measure', backend, String(threads)], {
    encoding: 'utf8',
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) return `failed: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' ')}`;
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as Measurement;
}

interface TorchMeasurement {
  imagesPerSecond: number;
  peakRssMiB: number;
}

/**
 * Runs the PyTorch script and then reads the interpreter's own peak RSS, so that the script itself
 * (shared with other benches) stays as it is.
 */
const TORCH_WITH_RSS = [
  'import resource, runpy, sys',
  'sys.argv = sys.argv[1:]',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
  "print('peak_rss_kib=%d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
].join('\n');

/** PyTorch's images/s and peak RSS at this thread count, or why there are none. */
function torchRun(threads: number): TorchMeasurement | string {
  if (!fs.existsSync(TORCH_SCRIPT)) return `no ${TORCH_SCRIPT}`;
  if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0) {
    return `${PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
  const run = spawnSync(PYTHON, ['-c', TORCH_WITH_RSS, TORCH_SCRIPT, String(BATCH), String(threads), '5'], {
    encoding: 'utf8',
  });
  const rate = /img_per_s=([\d.]+)/.exec(run.stdout);
  const rss = /peak_rss_kib=(\d+)/.exec(run.stdout);
  return rate && rss
    ? { imagesPerSecond: Number(rate[1]), peakRssMiB: Number(rss[1]) / 1024 }
    : `torch script failed: ${run.stderr.trim().split('\n').pop()}`;
}

function hasTfjsNode(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const configs: Array<{ backend: string; threads: number }> = [];
  if (hasTfjsNode()) configs.push({ backend: 'tensorflow', threads: 1 });
  if (onednnAvailable()) for (const threads of THREADS) configs.push({ backend: 'onednn', threads });
  configs.push({ backend: 'wasm', threads: 1 });

  const rows: string[] = [];
  const notes = new Set<string>();
  const profiles: string[] = [];
  for (const { backend, threads } of configs) {
    const ours: Measurement[] = [];
    const torch: TorchMeasurement[] = [];
    let failure: string | null = null;
    for (let round = 0; round < ROUNDS && !failure; round++) {
      const m = runChild(backend, threads);
      if (typeof m === 'string') failure = m;
      else ours.push(m);
      const t = torchRun(threads);
      if (typeof t !== 'string') torch.push(t);
      else notes.add(`PyTorch, ${threads} thread(s): ${t}`);
    }
    if (failure) {
      rows.push(`| ${backend} | ${threads} | – | ${failure} | – | – | – | – | – | – | – |`);
      continue;
    }
    const rate = median(ours.map((m) => m.imagesPerSecond));
    const rss = Math.max(...ours.map((m) => m.peakRssMiB));
    const evalRss = Math.max(...ours.map((m) => m.evaluationPeakRssMiB));
    const torchRate = torch.length > 0 ? median(torch.map((t) => t.imagesPerSecond)) : null;
    const torchRss = torch.length > 0 ? Math.max(...torch.map((t) => t.peakRssMiB)) : null;
    const cells = [
      ours[0].backend,
      threads,
      ours[0].device,
      rate.toFixed(1),
      torchRate === null ? 'n/a' : torchRate.toFixed(1),
      torchRate === null ? 'n/a' : (rate / torchRate).toFixed(2),
      rss.toFixed(0),
      torchRss === null ? 'n/a' : torchRss.toFixed(0),
      torchRss === null ? 'n/a' : (rss / torchRss).toFixed(2),
      evalRss.toFixed(0),
      (evalRss / rss).toFixed(2),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
    if (ours[0].profile)
      profiles.push(`\n${ours[0].backend}, ${threads} thread(s), per training step:\n\n${ours[0].profile}`);
  }
  if (!onednnAvailable())
    notes.add('onednn: addon not built (apt-get install libdnnl-dev, then npm run build:native)');
  notes.add('cpu: skipped, its JavaScript Conv2DBackpropFilter takes minutes per step at batch 128');

  console.log(
    `\nResNet-20 training, batch ${BATCH}, ${SIDE}×${SIDE}: median of ${ROUNDS} runs, each the median of ${STEPS} steps after ${WARMUP_STEPS} warm-up steps\n`,
  );
  console.log(
    `| backend | threads | device | images/s | PyTorch images/s | ours / PyTorch | peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ours / PyTorch | peak RSS with evaluation of ${EVAL_IMAGES} (MiB) | evaluation / training peak |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  for (const n of notes) console.log(`\n- ${n}`);
  for (const p of profiles) console.log(p);
}

if (process.argv[2] === '--measure') {
  measure(process.argv[3] as BackendChoice, Number(process.argv[4]))
    .then((m) => console.log(RESULT_PREFIX + JSON.stringify(m)))
    .catch((err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    });
} else {
  main().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
