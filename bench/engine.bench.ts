/**
 * `npm run bench:engine`: one worker's ResNet-20 training throughput (batch 128, 32×32 images,
 * setWeights + trainShard + SGD update) and peak RSS on every TensorFlow.js backend available here,
 * next to PyTorch's (throughput and peak RSS) on the same machine and thread count (../shared/bench/torch_resnet20_step.py);
 * then the peak RSS once it has evaluated 512 images in micro-batches of the training batch, as a
 * worker does, against its training peak. onednn also runs in bf16 where the CPU has it, next to
 * PyTorch's bf16 autocast (bench/torch_step.py) and to PyTorch's fp32 from the fp32 row of the same
 * thread count in the same run.
 * A benchmark, not a test. Each backend runs in its own process, so that peak RSS is its own.
 * Every row ends with the 1-minute load average when it was measured: figures from a loaded
 * machine are indicative only.
 *
 *   BENCH_STEPS=5      measured steps per run (after 2 warm-up steps), of which the median counts
 *   BENCH_ROUNDS=3     runs of ours and of PyTorch per row, alternating so that both see the same
 *                      load on a shared machine; the medians of the runs are reported
 *   BENCH_PROFILE=1    also print each backend's time per kernel (from its first run)
 *   BENCH_THREADS=1,2  thread counts for onednn (and PyTorch)
 *   BENCH_PRECISIONS=fp32,bf16  precisions for onednn (bf16 only where the CPU has native bf16)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  BackendChoice,
  initComputeBackend,
  onednnAvailable,
  registerOnednnBackend,
  ShardBatch,
  ShardTrainer,
} from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { sgdStep } from '@resnet/optimizer';
import { Precision } from '@resnet/protocol';
import { KernelProfile } from './kernel-profile';

const BATCH = 128;
const EVAL_IMAGES = 512;
const SIDE = 32;
const WARMUP_STEPS = 2;
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const PROFILE = process.env.BENCH_PROFILE === '1';
const THREADS = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const PRECISIONS = (process.env.BENCH_PRECISIONS ?? 'fp32,bf16').split(',') as Precision[];
const PYTHON = '/usr/bin/python3';
const REPO_ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repo
const TORCH_SCRIPT = path.resolve(REPO_ROOT, '..', 'shared', 'bench', 'torch_resnet20_step.py');
/** Runs TORCH_SCRIPT at a precision (bf16: under autocast) and reports the interpreter's peak RSS. */
const TORCH_AT_PRECISION = path.resolve(REPO_ROOT, 'bench', 'torch_step.py');
const RESULT_PREFIX = 'ENGINE_BENCH_RESULT ';

interface Measurement {
  backend: string;
  device: string;
  precision: Precision;
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
async function measure(backend: BackendChoice, threads: number, precision: Precision): Promise<Measurement> {
  const compute = await initComputeBackend(backend, 'cpu', { threads });
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const layouts = layoutsOf(arch);
  let seed = 7;
  const weights = initialWeights(
    layouts,
    () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296,
  );
  const velocity = new Float32Array(layouts.params.size);
  const trainer = new ShardTrainer(arch, precision);
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
    precision,
    threads,
    imagesPerSecond: median(rates),
    peakRssMiB,
    evaluationPeakRssMiB: process.resourceUsage().maxRSS / 1024,
    profile: profile?.report(STEPS),
  };
}

function runChild(backend: string, threads: number, precision: Precision): Measurement | string {
  const child = spawnSync(process.execPath, [__filename, '--measure', backend, String(threads), precision], {
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

/** PyTorch's images/s and peak RSS at this thread count and precision, or why there are none. */
function torchRun(threads: number, precision: Precision): TorchMeasurement | string {
  if (!fs.existsSync(TORCH_SCRIPT)) return `no ${TORCH_SCRIPT}`;
  if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0) {
    return `${PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
  const run = spawnSync(
    PYTHON,
    [TORCH_AT_PRECISION, precision, TORCH_SCRIPT, String(BATCH), String(threads), '5'],
    { encoding: 'utf8' },
  );
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

/** The native bf16 of this CPU, as the onednn backend sees it. */
function onednnBf16(): boolean {
  return onednnAvailable() && registerOnednnBackend(1).bf16;
}

const format = (x: number | null, digits: number): string => (x === null ? 'n/a' : x.toFixed(digits));

async function main(): Promise<void> {
  const configs: Array<{ backend: string; threads: number; precision: Precision }> = [];
  if (hasTfjsNode()) configs.push({ backend: 'tensorflow', threads: 1, precision: 'fp32' });
  const bf16 = onednnBf16();
  if (onednnAvailable()) {
    for (const threads of THREADS) {
      for (const precision of PRECISIONS) {
        if (precision === 'fp32' || bf16) configs.push({ backend: 'onednn', threads, precision });
      }
    }
  }
  configs.push({ backend: 'wasm', threads: 1, precision: 'fp32' });

  const rows: string[] = [];
  const notes = new Set<string>();
  const profiles: string[] = [];
  /** The fp32 rows' medians by thread count, which the bf16 rows of the same run compare against. */
  const fp32Rows = new Map<number, { rate: number; rss: number; torchRate: number | null }>();
  for (const { backend, threads, precision } of configs) {
    const ours: Measurement[] = [];
    const torch: TorchMeasurement[] = [];
    let failure: string | null = null;
    for (let round = 0; round < ROUNDS && !failure; round++) {
      const m = runChild(backend, threads, precision);
      if (typeof m === 'string') failure = m;
      else ours.push(m);
      const t = torchRun(threads, precision);
      if (typeof t !== 'string') torch.push(t);
      else notes.add(`PyTorch ${precision}, ${threads} thread(s): ${t}`);
    }
    const load = os.loadavg()[0].toFixed(2);
    if (failure) {
      rows.push(
        `| ${backend} | ${precision} | ${threads} | – | ${failure} | – | – | – | – | – | – | – | – | – | – | ${load} |`,
      );
      continue;
    }
    const rate = median(ours.map((m) => m.imagesPerSecond));
    const rss = Math.max(...ours.map((m) => m.peakRssMiB));
    const evalRss = Math.max(...ours.map((m) => m.evaluationPeakRssMiB));
    const torchRate = torch.length > 0 ? median(torch.map((t) => t.imagesPerSecond)) : null;
    const torchRss = torch.length > 0 ? Math.max(...torch.map((t) => t.peakRssMiB)) : null;
    if (precision === 'fp32' && backend === 'onednn') fp32Rows.set(threads, { rate, rss, torchRate });
    // bf16 rows: against PyTorch's bf16 autocast (their own columns) and PyTorch's fp32 (the fp32 row's).
    const fp32 = precision === 'fp32' ? { rate, rss, torchRate } : fp32Rows.get(threads);
    const torchFp32 = fp32?.torchRate ?? null;
    const cells = [
      ours[0].backend,
      precision,
      threads,
      ours[0].device,
      rate.toFixed(1),
      format(torchRate, 1),
      torchRate === null ? 'n/a' : (rate / torchRate).toFixed(2),
      torchFp32 === null ? 'n/a' : (rate / torchFp32).toFixed(2),
      rss.toFixed(0),
      format(torchRss, 0),
      torchRss === null ? 'n/a' : (rss / torchRss).toFixed(2),
      fp32 ? (rss / fp32.rss).toFixed(2) : 'n/a',
      evalRss.toFixed(0),
      (evalRss / rss).toFixed(2),
      load,
    ];
    rows.push(`| ${cells.join(' | ')} |`);
    if (ours[0].profile)
      profiles.push(
        `\n${ours[0].backend} ${precision}, ${threads} thread(s), per training step:\n\n${ours[0].profile}`,
      );
  }
  if (!onednnAvailable())
    notes.add('onednn: addon not built (apt-get install libdnnl-dev, then npm run build:native)');
  else if (!bf16) notes.add('onednn bf16: this CPU has no native bf16 (AVX512_BF16 or AMX) for oneDNN');
  notes.add('cpu: skipped, its JavaScript Conv2DBackpropFilter takes minutes per step at batch 128');

  console.log(
    `\nResNet-20 training, batch ${BATCH}, ${SIDE}×${SIDE}: median of ${ROUNDS} runs, each the median of ${STEPS} steps after ${WARMUP_STEPS} warm-up steps`,
  );
  console.log(
    'PyTorch runs at the row\'s precision (bf16: torch.autocast on the CPU); "/ PyTorch fp32" compares with the PyTorch fp32 of the same thread count; load: 1-minute load average after the row\n',
  );
  console.log(
    `| backend | precision | threads | device | images/s | PyTorch images/s | ours / PyTorch | ours / PyTorch fp32 | peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ours / PyTorch | RSS / our fp32 | peak RSS with evaluation of ${EVAL_IMAGES} (MiB) | evaluation / training peak | load |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  for (const n of notes) console.log(`\n- ${n}`);
  for (const p of profiles) console.log(p);
}

if (process.argv[2] === '--measure') {
  measure(process.argv[3] as BackendChoice, Number(process.argv[4]), process.argv[5] as Precision)
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
