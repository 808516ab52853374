/**
 * `npm run bench:gpu`: a webgpu worker's training throughput (setWeights + trainShard: one upload,
 * one packed download) with tfjs-backend-webgpu's stock kernels and with this project's, side by
 * side, next to PyTorch on CUDA on the same machine when python3 has torch with CUDA. For each it
 * prints the dispatches and submits of one step and the CPU time the backend spends recording and
 * submitting them. A benchmark, not a test. Each measurement runs in its own process.
 *
 * PyTorch runs first, so its figures are printed even where WebGPU then finds no adapter; that
 * case ends with the reason and exit code 1.
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
 *   BENCH_GPU_CHILD_TIMEOUT_S=600   seconds one measurement may take before it is recorded as failed
 *   BENCH_GPU_BEFORE=<checkout>   another built checkout (its dist/) whose own kernels are measured
 *                      too, as "before" (scripts/bench-gpu-before-after.sh builds main's)
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as thisEngine from '@resnet/engine';
import type { ShardBatch } from '@resnet/engine';
import * as thisModel from '@resnet/model';

const WARMUP_STEPS = 1;
const PROFILE = process.env.BENCH_PROFILE === '1';
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';
const BEFORE = process.env.BENCH_GPU_BEFORE;
const TORCH_SCRIPT = path.resolve(__dirname, '..', '..', 'bench', 'torch_resnet_gpu_step.py'); // dist/bench -> repo
const CHILD_TIMEOUT_MS = 1000 * Number(process.env.BENCH_GPU_CHILD_TIMEOUT_S ?? 600);
const RESULT_PREFIX = 'GPU_BENCH_RESULT ';
const HARDWARE_CASES = 'resnet20:128,resnet20:512,resnet50:32';
const EMULATION_CASES = 'resnet20:4';

/** Which kernels a measurement runs: the stock backend's, this checkout's, or BENCH_GPU_BEFORE's. */
type Kernels = 'stock' | 'ours' | 'before';

interface Case {
  readonly model: 'resnet20' | 'resnet50';
  readonly batch: number;
}

/** Medians over the measured steps. */
interface Measurement {
  readonly imagesPerSecond: number;
  readonly dispatches: number;
  readonly submits: number;
  /** CPU time inside the backend's runWebGPUProgram and submitQueue. */
  readonly encodeMs: number;
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

interface StepCounters {
  dispatches: number;
  submits: number;
  encodeMs: number;
}

/**
 * Counts the backend's dispatches and submits, and the CPU time spent in them (a submit inside a
 * dispatch counted once), by wrapping the two methods on this backend instance.
 */
function countDispatches(backend: WebGPUBackend): StepCounters {
  const counters: StepCounters = { dispatches: 0, submits: 0, encodeMs: 0 };
  let depth = 0;
  const timed =
    <A extends unknown[], R>(f: (...args: A) => R, count: () => void) =>
    (...args: A): R => {
      count();
      const started = depth++ === 0 ? performance.now() : NaN;
      try {
        return f(...args);
      } finally {
        if (--depth === 0) counters.encodeMs += performance.now() - started;
      }
    };
  backend.runWebGPUProgram = timed(backend.runWebGPUProgram.bind(backend), () => counters.dispatches++);
  backend.submitQueue = timed(backend.submitQueue.bind(backend), () => counters.submits++);
  return counters;
}

/** The engine and model of this checkout, or of the built checkout BENCH_GPU_BEFORE names. */
function libraries(kernels: Kernels): { engine: typeof thisEngine; model: typeof thisModel } {
  if (kernels !== 'before') return { engine: thisEngine, model: thisModel };
  if (!BEFORE) throw new Error('BENCH_GPU_BEFORE names no checkout to measure');
  const dist = path.resolve(BEFORE, 'dist', 'libs');
  /* eslint-disable @typescript-eslint/no-require-imports -- another build's modules, found at run time */
  return {
    engine: require(path.join(dist, 'engine', 'src', 'index.js')) as typeof thisEngine,
    model: require(path.join(dist, 'model', 'src', 'index.js')) as typeof thisModel,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Child-process side: one model and batch on the webgpu backend with one set of kernels. */
async function measure(kernels: Kernels, c: Case): Promise<Measurement> {
  const { engine, model } = libraries(kernels);
  const adapter = await engine.registerWebgpuBackend({
    allowFallbackAdapter: true,
    trainingKernels: kernels !== 'stock',
    exactTimestamps: PROFILE,
  });
  const steps = Number(process.env.BENCH_STEPS ?? (adapter.isFallbackAdapter ? 2 : 5));
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialise');
  const counters = countDispatches(tf.backend() as WebGPUBackend);
  const arch = model.architectureFor(c.model, { numClasses: c.model === 'resnet20' ? 10 : 1000 });
  const side = c.model === 'resnet20' ? 32 : 224;
  const weights = model.initialWeights(model.layoutsOf(arch), seeded(7));
  const uniform = seeded(1);
  const batch: ShardBatch = {
    x: Float32Array.from({ length: c.batch * side * side * 3 }, () => 2 * uniform() - 1),
    y: Int32Array.from({ length: c.batch }, () => Math.floor(uniform() * 10)),
    count: c.batch,
    height: side,
    width: side,
  };
  const trainer = new engine.ShardTrainer(arch);
  const perStep: StepCounters[] = [];
  const rates: number[] = [];
  const step = async (): Promise<void> => {
    Object.assign(counters, { dispatches: 0, submits: 0, encodeMs: 0 });
    const started = performance.now();
    trainer.setWeights(weights);
    await trainer.trainShard(batch);
    rates.push((c.batch * 1000) / (performance.now() - started));
    perStep.push({ ...counters });
  };
  for (let i = 0; i < WARMUP_STEPS; i++) await step();
  rates.length = perStep.length = 0;
  for (let i = 0; i < steps; i++) await step();
  const measured = {
    imagesPerSecond: median(rates),
    dispatches: median(perStep.map((s) => s.dispatches)),
    submits: median(perStep.map((s) => s.submits)),
    encodeMs: median(perStep.map((s) => s.encodeMs)),
  };
  const profile = PROFILE ? await kernelProfile(step) : undefined;
  trainer.dispose();
  return { ...measured, profile };
}

function runChild(kernels: Kernels, c: Case): Measurement | string {
  const child = spawnSync(process.execPath, [__filename, '--measure', kernels, c.model, String(c.batch)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: CHILD_TIMEOUT_MS,
  });
  if (child.error) return `failed: ${child.error.message}`;
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
  const requested = process.env.BENCH_GPU_CASES;
  const torchCases = parseCases(requested ?? HARDWARE_CASES);
  const torch = new Map(torchCases.map((c) => [`${c.model}:${c.batch}`, torchRate(c)]));
  for (const [name, rate] of torch)
    console.log(`PyTorch CUDA, ${name}: ${typeof rate === 'number' ? `${format(rate)} img/s` : rate}`);
  let adapter: thisEngine.GpuAdapterInfo;
  try {
    adapter = await thisEngine.registerWebgpuBackend({ allowFallbackAdapter: true });
  } catch (err) {
    throw new Error(`no WebGPU adapter, so only PyTorch was measured: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const emulated = adapter.isFallbackAdapter;
  const cases = parseCases(requested ?? (emulated ? EMULATION_CASES : HARDWARE_CASES));
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
    '| model | batch | kernels | img/s | dispatches / step | submits / step | CPU encode (ms / step) | img/s vs stock | img/s vs PyTorch |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const notes: string[] = [];
  const kernelSets: Kernels[] = BEFORE ? ['stock', 'before', 'ours'] : ['stock', 'ours'];
  let failures = 0;
  for (const c of cases) {
    const torchFigure = torch.get(`${c.model}:${c.batch}`) ?? torchRate(c);
    if (typeof torchFigure === 'string') notes.push(`PyTorch, ${c.model} batch ${c.batch}: ${torchFigure}`);
    const measured = new Map(kernelSets.map((k) => [k, runChild(k, c)]));
    const stock = measured.get('stock')!;
    const ratio = (m: Measurement, b: Measurement | number | string): string => {
      const bv = typeof b === 'number' ? b : typeof b === 'string' ? NaN : b.imagesPerSecond;
      return Number.isFinite(bv) ? `${(m.imagesPerSecond / bv).toFixed(2)}×` : '–';
    };
    for (const [kernels, m] of measured) {
      if (typeof m === 'string') {
        failures++;
        notes.push(`${kernels} kernels, ${c.model} batch ${c.batch}: ${m}`);
        console.log(`| ${c.model} | ${c.batch} | ${kernels} | – | – | – | – | – | – |`);
        continue;
      }
      if (m.profile)
        notes.push(`${kernels} kernels, ${c.model} batch ${c.batch}, GPU time per kernel: ${m.profile}`);
      console.log(
        `| ${c.model} | ${c.batch} | ${kernels} | ${format(m.imagesPerSecond)} | ${m.dispatches} | ${m.submits} | ` +
          `${format(m.encodeMs)} | ${ratio(m, stock)} | ${ratio(m, torchFigure)} |`,
      );
    }
    const before = measured.get('before');
    const ours = measured.get('ours')!;
    if (before && typeof before !== 'string' && typeof ours !== 'string') {
      notes.push(
        `${c.model} batch ${c.batch}, ours against before: dispatches ${(ours.dispatches / before.dispatches).toFixed(2)}×, ` +
          `CPU encode time ${(ours.encodeMs / before.encodeMs).toFixed(2)}×, img/s ${(ours.imagesPerSecond / before.imagesPerSecond).toFixed(2)}×`,
      );
    }
  }
  if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  if (failures) throw new Error(`${failures} measurement(s) failed (see above)`);
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
