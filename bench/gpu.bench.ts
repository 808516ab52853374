/**
 * `npm run bench:gpu`: a webgpu worker's training throughput (setWeights + trainShard: one upload,
 * one packed download) with tfjs-backend-webgpu's stock kernels and with this project's, side by
 * side, next to PyTorch on CUDA on the same machine when python3 has torch with CUDA. A benchmark,
 * not a test. Each measurement runs in its own process.
 *
 * On a software adapter (SwiftShader: VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json)
 * the figures are CPU emulation and show direction only; the default batch and step counts then
 * shrink so a run ends in minutes, and ResNet-50 is skipped unless BENCH_GPU_CASES names it.
 *
 *   BENCH_GPU_CASES=resnet20:128,resnet20:512,resnet50:32   model:batch pairs to measure
 *   BENCH_STEPS=5      measured steps per run (2 on a software adapter), after one warm-up step
 *                      that compiles the shaders
 *   BENCH_PROFILE=1    also print the GPU time per kernel of one step (timestamp queries)
 *   BENCH_PYTHON=python3   the Python with torch and CUDA
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWebgpuBackend, ShardBatch, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';

const WARMUP_STEPS = 1;
const PROFILE = process.env.BENCH_PROFILE === '1';
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';
const TORCH_SCRIPT = path.resolve(__dirname, '..', '..', 'bench', 'torch_resnet_gpu_step.py'); // dist/bench -> repo
const RESULT_PREFIX = 'GPU_BENCH_RESULT ';
const HARDWARE_CASES = 'resnet20:128,resnet20:512,resnet50:32';
const EMULATION_CASES = 'resnet20:4';

type Kernels = 'stock' | 'ours';

interface Case {
  readonly model: 'resnet20' | 'resnet50';
  readonly batch: number;
}

interface Measurement {
  readonly imagesPerSecond: number;
  readonly profile?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function seeded(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
}

function parseCases(spec: string): Case[] {
  return spec.split(',').map((item) => {
    const [model, batch] = item.split(':');
    if ((model !== 'resnet20' && model !== 'resnet50') || !(Number(batch) > 0)) {
      throw new Error(`BENCH_GPU_CASES: "${item}" is not resnet20:<batch> or resnet50:<batch>`);
    }
    return { model, batch: Number(batch) };
  });
}

/** GPU time per kernel over one step, from timestamp queries. */
async function kernelProfile(step: () => Promise<unknown>): Promise<string> {
  const info = await tf.profile(async () => {
    await step();
  });
  const byKernel = new Map<string, number>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
    total += ms;
  }
  return [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)} ms (${((100 * ms) / total).toFixed(0)}%)`)
    .join(', ');
}

/** Child-process side: one model and batch on the webgpu backend with one set of kernels. */
async function measure(kernels: Kernels, c: Case): Promise<Measurement> {
  const adapter = await registerWebgpuBackend({
    allowFallbackAdapter: true,
    trainingKernels: kernels === 'ours',
  });
  const steps = Number(process.env.BENCH_STEPS ?? (adapter.isFallbackAdapter ? 2 : 5));
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialise');
  const arch = architectureFor(c.model, { numClasses: c.model === 'resnet20' ? 10 : 1000 });
  const side = c.model === 'resnet20' ? 32 : 224;
  const weights = initialWeights(layoutsOf(arch), seeded(7));
  const uniform = seeded(1);
  const batch: ShardBatch = {
    x: Float32Array.from({ length: c.batch * side * side * 3 }, () => 2 * uniform() - 1),
    y: Int32Array.from({ length: c.batch }, () => Math.floor(uniform() * 10)),
    count: c.batch,
    height: side,
    width: side,
  };
  const trainer = new ShardTrainer(arch);
  const step = async (): Promise<number> => {
    const started = performance.now();
    trainer.setWeights(weights);
    await trainer.trainShard(batch);
    return (c.batch * 1000) / (performance.now() - started);
  };
  for (let i = 0; i < WARMUP_STEPS; i++) await step();
  const rates: number[] = [];
  for (let i = 0; i < steps; i++) rates.push(await step());
  const profile = PROFILE ? await kernelProfile(step) : undefined;
  trainer.dispose();
  return { imagesPerSecond: median(rates), profile };
}

function runChild(kernels: Kernels, c: Case): Measurement | string {
  const child = spawnSync(process.execPath, [__filename, '--measure', kernels, c.model, String(c.batch)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) return `failed: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' ')}`;
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as Measurement;
}

/** PyTorch's images/s on CUDA, or why there is none. */
function torchRate(c: Case): number | string {
  const run = spawnSync(PYTHON, [TORCH_SCRIPT, c.model, String(c.batch)], { encoding: 'utf8' });
  if (run.error) return `${PYTHON} did not run: ${run.error.message}`;
  const rate = /img_per_s=([\d.]+)/.exec(run.stdout);
  if (rate) return Number(rate[1]);
  if (/No module named 'torch'/.test(run.stderr))
    return `${PYTHON} has no torch (BENCH_PYTHON names another Python)`;
  const noCuda = /no_cuda=(.*)/.exec(run.stdout);
  return noCuda ? `no CUDA: ${noCuda[1]}` : `torch failed: ${run.stderr.trim().split('\n').pop()}`;
}

const format = (x: number): string => x.toFixed(x < 10 ? 2 : 1);

async function main(): Promise<void> {
  const adapter = await registerWebgpuBackend({ allowFallbackAdapter: true });
  const emulated = adapter.isFallbackAdapter;
  const cases = parseCases(process.env.BENCH_GPU_CASES ?? (emulated ? EMULATION_CASES : HARDWARE_CASES));
  console.log(
    `adapter: ${adapter.description} (vendor ${adapter.vendor}, architecture ${adapter.architecture})`,
  );
  if (emulated) {
    console.log(
      'CPU EMULATION: this is a software adapter (SwiftShader), not a GPU. The figures show the direction of a ' +
        'change, not GPU speed; batches are reduced (BENCH_GPU_CASES sets them).',
    );
  }
  console.log('');
  console.log(
    '| model | batch | stock webgpu (img/s) | ours (img/s) | ours / stock | PyTorch CUDA (img/s) | ours / PyTorch |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const notes: string[] = [];
  for (const c of cases) {
    const stock = runChild('stock', c);
    const ours = runChild('ours', c);
    const torch = torchRate(c);
    if (typeof torch === 'string') notes.push(`PyTorch, ${c.model} batch ${c.batch}: ${torch}`);
    for (const [name, m] of [
      ['stock', stock],
      ['ours', ours],
    ] as const) {
      if (typeof m === 'string') notes.push(`${name} kernels, ${c.model} batch ${c.batch}: ${m}`);
      else if (m.profile)
        notes.push(`${name} kernels, ${c.model} batch ${c.batch}, GPU time per kernel: ${m.profile}`);
    }
    const rate = (m: Measurement | string): string =>
      typeof m === 'string' ? '–' : format(m.imagesPerSecond);
    const ratio = (a: Measurement | string, b: number | Measurement | string): string => {
      const bv = typeof b === 'number' ? b : typeof b === 'string' ? NaN : b.imagesPerSecond;
      return typeof a === 'string' || !Number.isFinite(bv) ? '–' : `${(a.imagesPerSecond / bv).toFixed(2)}×`;
    };
    console.log(
      `| ${c.model} | ${c.batch} | ${rate(stock)} | ${rate(ours)} | ${ratio(ours, stock)} | ` +
        `${typeof torch === 'number' ? format(torch) : '–'} | ${ratio(ours, torch)} |`,
    );
  }
  if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
}

if (process.argv[2] === '--measure') {
  const [, , , kernels, model, batch] = process.argv;
  measure(kernels as Kernels, { model: model as Case['model'], batch: Number(batch) })
    .then((m) => {
      console.log(RESULT_PREFIX + JSON.stringify(m));
      process.exit(0);
    })
    .catch((err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    });
} else {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
