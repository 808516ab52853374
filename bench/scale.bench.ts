/**
 * `npm run bench:scale`: how the coordinator, the queue and Redis scale with the number of workers
 * K when compute is not the bottleneck. Workers simulate a fixed compute time per shard but move
 * real weights and gradient messages of the model's size; each step has K shards of a fixed size
 * (weak scaling), one per worker. Prints per K: throughput, scaling efficiency (throughput at K /
 * (K × throughput at 1)) and where a step's time goes; then bytes and throughput per gradient
 * encoding. `-- --memory` instead runs 1,000 quick steps and compares Redis memory at step 100 and
 * at step 1,000. `-- --only resnet20|resnet50|local-sgd|encodings|gpu-speed|partitions` runs one table;
 * `-- --predict` prints the step-time model's compute / period at scale, a calculation;
 * `gpu-speed` is ResNet-20 messages with 10 ms of compute per shard, where the coordinator's and
 * Redis's serial work is most of a step (`--workers 1,2,8,12` sets its K, `--redis-masters 2` puts
 * it in as many partitions on a Redis Cluster of that many masters, as scripts/scale-check does);
 * `partitions` is ResNet-50 messages at K = 2 in one partition on one Redis against 2 partitions on
 * a 2-master Redis Cluster. `-- --only gpu-speed --aggregators N [--units U]` runs the GPU-speed
 * table twice in the same run, aggregated in the coordinator and by N summation service processes
 * (`aggregation: 'services'`, U units), and prints efficiency against the in-coordinator K = 1
 * period, compute / period, and the CPU per shard of every kind of process (as ProcessCpuPerShard
 * objects too). Every table fits the step-time model on its first two K and prints its prediction
 * for the others before they run, then their errors. A benchmark, not a test.
 */
import os from 'node:os';
import { StepMetrics, TensorDtype } from '@resnet/protocol';
import { textTable } from '../apps/cli/src/text-table';
import { ProcessCpuPerShard } from './process-cpu';
import { CommandCalls, CpuTimes, RedisFootprint, ScaleCluster } from './scale-cluster';
import { printHeldOutPrediction, printScalePrediction } from './scale-prediction';
import { fitStepTimeModel, LocalPoint, predictOverheadMs, StepTimePoint } from './step-time-model';

interface Scenario {
  readonly name: string;
  readonly model: string;
  readonly numClasses: number;
  readonly imagesPerShard: number;
  readonly computeMs: number;
  /** Local SGD: SGD steps per shard job (each `computeMs` long), one weights version per round. */
  readonly localSteps: number;
  /** Steps (rounds, with local SGD) run before measuring, and measured. */
  readonly warmup: number;
  readonly steps: number;
}

const RESNET20: Scenario = {
  name: 'ResNet-20',
  model: 'resnet20',
  numClasses: 10,
  imagesPerShard: 64,
  computeMs: 200,
  localSteps: 1,
  warmup: 3,
  steps: 12,
};
/** ResNet-20 at the speed of a GPU worker: the serial path (queue, Redis, coordinator) is most of a step. */
const RESNET20_GPU_SPEED: Scenario = {
  ...RESNET20,
  name: 'ResNet-20 at GPU speed',
  computeMs: 10,
  warmup: 20,
  steps: 100,
};
/** ResNet-20 with 4 local steps per round: a quarter of the synchronisations per image. */
const RESNET20_LOCAL_SGD: Scenario = {
  ...RESNET20,
  name: 'ResNet-20, local SGD with 4 local steps',
  localSteps: 4,
  warmup: 2,
  steps: 6,
};
// 1000 classes, as on ImageNet, for its 25.6M parameters.
const RESNET50: Scenario = {
  name: 'ResNet-50',
  model: 'resnet50',
  numClasses: 1000,
  imagesPerShard: 32,
  computeMs: 2000,
  localSteps: 1,
  warmup: 1,
  steps: 4,
};

/** Where a step's time goes, as the tables show it (see summarise). */
const PHASES = [
  'enqueue',
  'fetch',
  'compute',
  'upload',
  'aggregation',
  'optimizer',
  'publish',
  'idle',
  'coordinator',
] as const;

interface Measured {
  readonly workers: number;
  readonly stepsPerSecond: number;
  readonly imagesPerSecond: number;
  /** Mean per step, ms. */
  readonly phases: Record<(typeof PHASES)[number], number>;
  readonly bytesPerStep: number;
  /** Standard deviation of the slowest shard's compute over the steps: at K = 1, of one shard's. */
  readonly shardSpreadMs: number;
  /** CPU time per step of each part of the cluster, ms (over the measured steps). */
  readonly cpu: CpuTimes;
  /** Redis commands per step, by name (over the measured steps). */
  readonly commands: CommandCalls;
}

/**
 * Where the job's big values live: its partitions, on one Redis (0 masters) or a Redis Cluster;
 * or, with `services`, that many summation service processes holding `units` units.
 */
interface Placement {
  readonly partitions: number;
  readonly redisMasters: number;
  readonly services?: number;
  readonly units?: number;
}

const ONE_REDIS: Placement = { partitions: 1, redisMasters: 0 };

async function measure(
  scenario: Scenario,
  workers: number,
  encoding: TensorDtype = 'fp32',
  placement: Placement = ONE_REDIS,
): Promise<Measured & { weightsDigest: string }> {
  const services = placement.services ?? 0;
  const cluster = await ScaleCluster.start(workers, scenario.computeMs, placement.redisMasters, services);
  const total = scenario.warmup + scenario.steps;
  const h = scenario.localSteps;
  // Version v is announced once the shards of the step (round) starting at v are queued: CPU time
  // is read from the first measured one to the last one.
  const [first, last] = [scenario.warmup * h, (total - 1) * h];
  const cpuAt = new Map<number, Promise<[CpuTimes, CommandCalls]>>();
  try {
    const job = {
      ...jobFor(scenario, workers, total, encoding),
      ...(services > 0
        ? { aggregation: 'services', ...(placement.units ? { units: placement.units } : {}) }
        : { partitions: placement.partitions }),
    };
    const { jobId, steps } = await cluster.run(job, (version) => {
      if (version === first || version === last)
        cpuAt.set(version, Promise.all([cluster.cpuTimes(), cluster.commandCalls()]));
    });
    const [[from, callsFrom], [to, callsTo]] = [await cpuAt.get(first)!, await cpuAt.get(last)!];
    const measuredSteps = total - 1 - scenario.warmup;
    const perStep = (part: Exclude<keyof CpuTimes, 'redisNodes'>): number =>
      (to[part] - from[part]) / measuredSteps;
    return {
      ...summarise(workers, workers * scenario.imagesPerShard * h, steps.slice(scenario.warmup)),
      cpu: {
        coordinator: perStep('coordinator'),
        redis: perStep('redis'),
        workers: perStep('workers'),
        services: perStep('services'),
        redisNodes: to.redisNodes.map((t, i) => (t - from.redisNodes[i]) / measuredSteps),
      },
      commands: new Map(
        [...callsTo].map(([name, calls]) => [name, (calls - (callsFrom.get(name) ?? 0)) / measuredSteps]),
      ),
      weightsDigest: await cluster.weightsDigest(jobId),
    };
  } finally {
    await cluster.stop();
  }
}

function jobFor(
  scenario: Scenario,
  workers: number,
  steps: number,
  encoding: TensorDtype,
): Record<string, unknown> {
  const batchSize = workers * scenario.imagesPerShard;
  return {
    name: `scale ${scenario.model} K${workers} ${encoding}`,
    model: scenario.model,
    dataset: {
      kind: 'synthetic',
      trainSize: batchSize,
      testSize: 16,
      imageSize: 32,
      numClasses: scenario.numClasses,
    },
    batchSize,
    shardsPerStep: workers,
    gradientEncoding: encoding,
    localSteps: scenario.localSteps,
    // One step per epoch: `steps` rounds of localSteps steps.
    epochs: steps * scenario.localSteps,
    maxSteps: steps * scenario.localSteps,
    lr: 0.01,
    schedule: { decay: 'constant' },
    evalEvery: 0,
    checkpointEvery: 0,
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (v: number): string => v.toFixed(1);

/**
 * The step period comes from the commit timestamps; the phases are means over the steps of what
 * StepMetrics records, and idle is the rest of the period: waiting on the queue and on events, and
 * contention for the cores.
 */
function summarise(
  workers: number,
  imagesPerStep: number,
  steps: StepMetrics[],
): Omit<Measured, 'cpu' | 'commands'> {
  const period = (steps[steps.length - 1].at - steps[0].at) / (steps.length - 1);
  const of = (field: (s: StepMetrics) => number | undefined): number =>
    mean(steps.map(field).filter((v): v is number => v !== undefined));
  const enqueue = of((s) => s.enqueueMs);
  const fetch = of((s) => s.weightFetchMs);
  const compute = of((s) => s.slowestShardMs);
  const upload = of((s) => s.uploadMs);
  const aggregation = of((s) => s.waitMs - (s.lastArrivalMs ?? s.waitMs));
  const optimizer = of((s) => s.optimizerMs);
  const publish = of((s) => s.publishMs);
  const idle = period - enqueue - fetch - compute - upload - aggregation - optimizer - publish;
  const coordinator = of((s) => s.aggregateMs) + optimizer + publish;
  return {
    workers,
    stepsPerSecond: 1000 / period,
    imagesPerSecond: (1000 * imagesPerStep) / period,
    phases: { enqueue, fetch, compute, upload, aggregation, optimizer, publish, idle, coordinator },
    bytesPerStep: of((s) => s.gradientBytes),
    shardSpreadMs: Math.sqrt(mean(steps.map((s) => (s.slowestShardMs - compute) ** 2))),
  };
}

function scalingTable(scenario: Scenario, rows: Measured[]): string {
  const one = rows.find((r) => r.workers === 1)!;
  return textTable(
    ['K', 'steps/s', 'images/s', 'efficiency', ...PHASES],
    rows.map((r) => [
      String(r.workers),
      r.stepsPerSecond.toFixed(2),
      r.imagesPerSecond.toFixed(0),
      `${((100 * r.imagesPerSecond) / (r.workers * one.imagesPerSecond)).toFixed(1)}%`,
      ...PHASES.map((p) => ms(r.phases[p])),
    ]),
    new Set(Array.from({ length: 13 }, (_, i) => i)),
  );
}

async function scaling(
  scenario: Scenario,
  ks: readonly number[],
  placement: Placement = ONE_REDIS,
): Promise<Measured[]> {
  const rows: Measured[] = [];
  const point = (r: Measured): LocalPoint => ({
    shards: r.workers,
    computeMs: scenario.computeMs * scenario.localSteps,
    periodMs: 1000 / r.stepsPerSecond,
    workerCpuMs: r.cpu.workers,
    serialCpuMs: { coordinator: r.cpu.coordinator, redis: r.cpu.redis },
  });
  let heldOut: ((measured: LocalPoint) => void) | undefined;
  for (const k of ks) {
    if (!heldOut && rows.length === 2)
      heldOut = printHeldOutPrediction(
        [point(rows[0]), point(rows[1])],
        rows[0].shardSpreadMs,
        CORES,
        ks.slice(2),
      );
    rows.push(await measure(scenario, k, 'fp32', placement));
    heldOut?.(point(rows[rows.length - 1]));
    console.error(`  ${scenario.name} K=${k}: ${rows[rows.length - 1].stepsPerSecond.toFixed(2)} steps/s`);
  }
  console.log(
    scenario.localSteps === 1
      ? `\n${scenario.name} payload, ${scenario.computeMs} ms simulated compute per shard, ${scenario.imagesPerShard} images per shard, ` +
          `mean of ${scenario.steps} steps after ${scenario.warmup} warm-up steps (phases in ms per step)\n`
      : `\n${scenario.name} (payload ResNet-20), ${scenario.computeMs} ms simulated compute per local step of ${scenario.imagesPerShard} images, ` +
          `mean of ${scenario.steps} rounds after ${scenario.warmup} warm-up rounds (phases in ms per round of ${scenario.localSteps} steps)\n`,
  );
  console.log(scalingTable(scenario, rows));
  console.log(`\nCPU time per step, ms (what the ${CORES} cores share):\n`);
  console.log(cpuTable(rows));
  console.log(
    `\nThe serial path: coordinator and Redis CPU per shard, and the fixed wall time per step, ms:\n`,
  );
  console.log(serialPathTable(rows));
  return rows;
}

const CORES = os.availableParallelism();

/**
 * Where the CPU goes: each part's CPU time per step, and their sum over the cores, the least
 * wall time per step that CPU needs when all of it falls between two steps' compute, as it does
 * when all shards finish together.
 */
function cpuTable(rows: Measured[]): string {
  return textTable(
    ['K', 'coordinator', 'Redis', 'workers', 'per worker', 'per shard (all parts)', `total / ${CORES} cores`],
    rows.map((r) => {
      const total = r.cpu.coordinator + r.cpu.redis + r.cpu.workers;
      return [
        String(r.workers),
        r.cpu.coordinator.toFixed(1),
        r.cpu.redis.toFixed(1),
        r.cpu.workers.toFixed(1),
        (r.cpu.workers / r.workers).toFixed(1),
        (total / r.workers).toFixed(1),
        (total / CORES).toFixed(1),
      ];
    }),
    new Set([0, 1, 2, 3, 4, 5, 6]),
  );
}

/**
 * What neither more workers nor faster ones take off a step: the coordinator's and Redis's CPU per
 * shard (per step over K), the same fitted as fixed + per shard × K over the rows, and the wall
 * time of the step's fixed phases (enqueue + optimizer + publish).
 */
function serialPathTable(rows: Measured[]): string {
  const serialCpu = (r: Measured): number => r.cpu.coordinator + r.cpu.redis;
  const fit = rows.length >= 2 ? fitLine(rows.map((r) => [r.workers, serialCpu(r)])) : null;
  const table = textTable(
    ['K', 'coordinator / shard', 'Redis / shard', 'both / shard', 'enqueue + optimizer + publish'],
    rows.map((r) => [
      String(r.workers),
      (r.cpu.coordinator / r.workers).toFixed(2),
      (r.cpu.redis / r.workers).toFixed(2),
      (serialCpu(r) / r.workers).toFixed(2),
      (r.phases.enqueue + r.phases.optimizer + r.phases.publish).toFixed(2),
    ]),
    new Set([0, 1, 2, 3, 4]),
  );
  const commands = rows.map(
    (r) =>
      `K = ${r.workers}: ` +
      [...r.commands]
        .filter(([name, calls]) => calls > 0 && name !== 'info')
        .sort(([, a], [, b]) => b - a)
        .map(([name, calls]) => `${name} ${calls.toFixed(1)}`)
        .join(', '),
  );
  return [
    table,
    ...(fit === null
      ? []
      : [
          `\ncoordinator + Redis CPU per step ≈ ${fit.intercept.toFixed(1)} ms + ${fit.slope.toFixed(2)} ms × K`,
        ]),
    '\nRedis commands per step:',
    ...commands,
  ].join('\n');
}

/** Least-squares line through (x, y) points. */
function fitLine(points: readonly (readonly [number, number])[]): { intercept: number; slope: number } {
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

/** The step time model of docs/scaling.md, fitted to the rows above. */
function printModel(points: StepTimePoint[]): void {
  const model = fitStepTimeModel(points);
  console.log(
    `\nStep time fitted to the tables above, MB being one shard's gradient message:\n` +
      `T(K) = compute + ${model.fixedMs.toFixed(1)} ms + ${model.perMbMs.toFixed(2)} ms/MB × MB + ` +
      `${model.perShardMs.toFixed(2)} ms × K + ${model.perShardMbMs.toFixed(2)} ms/MB × MB × K\n`,
  );
  console.log(
    textTable(
      ['K', 'MB per shard', 'overhead ms', 'model ms'],
      points.map((p) => [
        String(p.shards),
        p.mbPerShard.toFixed(1),
        p.overheadMs.toFixed(1),
        predictOverheadMs(model, p.shards, p.mbPerShard).toFixed(1),
      ]),
      new Set([0, 1, 2, 3]),
    ),
  );
}

async function encodings(scenario: Scenario, workers: number): Promise<void> {
  const rows: [TensorDtype, Measured][] = [];
  for (const encoding of ['fp32', 'fp16', 'bf16'] as const) {
    rows.push([encoding, await measure(scenario, workers, encoding)]);
    console.error(`  ${scenario.name} K=${workers} ${encoding}: done`);
  }
  console.log(
    `\nGradient encodings, ${scenario.name} payload, K = ${workers}, ${scenario.computeMs} ms simulated compute\n`,
  );
  console.log(
    textTable(
      [
        'encoding',
        'gradient MB/step',
        'steps/s',
        'images/s',
        'upload ms',
        'aggregation ms',
        'coordinator ms',
      ],
      rows.map(([encoding, r]) => [
        encoding,
        (r.bytesPerStep / 1e6).toFixed(1),
        r.stepsPerSecond.toFixed(3),
        r.imagesPerSecond.toFixed(1),
        r.phases.upload.toFixed(1),
        r.phases.aggregation.toFixed(1),
        r.phases.coordinator.toFixed(1),
      ]),
      new Set([1, 2, 3, 4, 5, 6]),
    ),
  );
}

/** Redis memory over a long run: ResNet-20 messages, no compute, 4 workers, 1,000 steps. */
async function memory(): Promise<void> {
  const workers = 4;
  const steps = 1000;
  const scenario: Scenario = { ...RESNET20, computeMs: 0 };
  const cluster = await ScaleCluster.start(workers, 0);
  // Sampled as each version is announced (its shards just queued), over a window of steps: a sample
  // can catch gradient blobs in flight and Redis's input buffers for them (1 MB each), so the window's
  // lowest value (the floor) is what shows growth; the peak is shown beside it.
  const samples = new Map<number, Promise<RedisFootprint>>();
  try {
    const started = performance.now();
    await cluster.run(jobFor(scenario, workers, steps, 'fp32'), (version) => {
      if (Math.abs(version - 100) <= 10 || version >= steps - 20) samples.set(version, cluster.footprint());
    });
    const seconds = (performance.now() - started) / 1000;
    const window = async (from: number, to: number): Promise<RedisFootprint[]> =>
      Promise.all([...samples].filter(([v]) => v >= from && v <= to).map(([, f]) => f));
    const early = await window(90, 110);
    const late = await window(steps - 20, steps);
    const after = await cluster.footprint();
    console.log(
      `\nRedis memory, ResNet-20 messages, ${workers} workers, no compute: ${steps} steps in ${seconds.toFixed(1)} s\n`,
    );
    const floor = (fs: RedisFootprint[]) => fs.reduce((low, f) => (f.usedMemory < low.usedMemory ? f : low));
    const peak = (fs: RedisFootprint[]) => Math.max(...fs.map((f) => f.usedMemory));
    const row = (label: string, fs: RedisFootprint[]) => {
      const low = floor(fs);
      return [
        label,
        mb(low.usedMemory),
        mb(peak(fs)),
        String(low.keys),
        String(low.events),
        String(low.completedShards),
      ];
    };
    console.log(
      textTable(
        ['when', 'used_memory floor MB', 'peak MB', 'keys', 'queue events', 'completed shards kept'],
        [
          row('steps 90-110', early),
          row(`steps ${steps - 20}-${steps}`, late),
          row('after the job', [after]),
        ],
        new Set([1, 2, 3, 4, 5]),
      ),
    );
    const change = (floor(late).usedMemory - floor(early).usedMemory) / floor(early).usedMemory;
    console.log(`\nchange of the floor from step ~100 to step ~${steps}: ${(100 * change).toFixed(1)}%`);
  } finally {
    await cluster.stop();
  }
}

/**
 * Partitioned aggregation (BytePS's design): the same job with its model in one partition on one
 * Redis, and in `count` partitions on a Redis Cluster of `count` masters, each partition's
 * messages, aggregator thread and weights on its own master. Prints the overhead (period minus the
 * simulated compute) of each and their ratio, and whether the trained weights are bitwise equal.
 */
async function partitioned(scenario: Scenario, workers: number, count: number): Promise<void> {
  const placements: Placement[] = [ONE_REDIS, { partitions: count, redisMasters: count }];
  const rows: (Measured & { weightsDigest: string })[] = [];
  for (const placement of placements) {
    rows.push(await measure(scenario, workers, 'fp32', placement));
    console.error(
      `  ${scenario.name}, ${placement.partitions} partition(s): ${rows[rows.length - 1].stepsPerSecond.toFixed(3)} steps/s`,
    );
  }
  const overhead = (r: Measured): number => 1000 / r.stepsPerSecond - scenario.computeMs;
  console.log(
    `\n${scenario.name} payload, K = ${workers}, ${scenario.computeMs} ms simulated compute per shard, ` +
      `mean of ${scenario.steps} steps after ${scenario.warmup} warm-up steps (ms per step)\n`,
  );
  console.log(
    textTable(
      [
        'placement',
        'steps/s',
        'overhead',
        ...PHASES.filter((p) => p !== 'compute'),
        'coordinator CPU',
        'Redis CPU',
        'workers CPU',
      ],
      rows.map((r, i) => [
        i === 0 ? '1 partition, one Redis' : `${count} partitions, ${count}-master Redis Cluster`,
        r.stepsPerSecond.toFixed(3),
        ms(overhead(r)),
        ...PHASES.filter((p) => p !== 'compute').map((p) => ms(r.phases[p])),
        ms(r.cpu.coordinator),
        ms(r.cpu.redis),
        ms(r.cpu.workers),
      ]),
      new Set(Array.from({ length: 14 }, (_, i) => i + 1)),
    ),
  );
  console.log(
    `\noverhead, 1 partition / ${count} partitions: ${(overhead(rows[0]) / overhead(rows[1])).toFixed(2)}×`,
  );
  console.log(
    `trained weights (SHA-256 of /jobs/:id/model/weights.bin): ${rows.map((r) => r.weightsDigest.slice(0, 16)).join(' vs ')}, ` +
      (rows[0].weightsDigest === rows[1].weightsDigest ? 'bitwise equal' : 'DIFFERENT'),
  );
}

/** A row for the step-time model's held-out check: the services are on the serial path, as the coordinator and Redis. */
function servicesPoint(scenario: Scenario, r: Measured): LocalPoint {
  return {
    shards: r.workers,
    computeMs: scenario.computeMs,
    periodMs: 1000 / r.stepsPerSecond,
    workerCpuMs: r.cpu.workers,
    serialCpuMs: { coordinator: r.cpu.coordinator, redis: r.cpu.redis, services: r.cpu.services },
  };
}

/**
 * The GPU-speed table aggregated in the coordinator and by `aggregators` summation service
 * processes, in the same run: per K, the period, compute / period, efficiency against the
 * in-coordinator K = 1 period, and the CPU per shard of each kind of process.
 */
async function servicesComparison(
  scenario: Scenario,
  ks: readonly number[],
  aggregators: number,
  units: number | undefined,
): Promise<ProcessCpuPerShard[]> {
  const figures: ProcessCpuPerShard[] = [];
  for (const services of [0, aggregators]) {
    const rows: Measured[] = [];
    let heldOut: ((measured: LocalPoint) => void) | undefined;
    for (const k of ks) {
      if (!heldOut && rows.length === 2) {
        console.log(`\n${services ? `${services} summation services` : 'In the coordinator'}:`);
        heldOut = printHeldOutPrediction(
          [servicesPoint(scenario, rows[0]), servicesPoint(scenario, rows[1])],
          rows[0].shardSpreadMs,
          CORES,
          ks.slice(2),
        );
      }
      const r = await measure(scenario, k, 'fp32', { ...ONE_REDIS, services, units });
      rows.push(r);
      heldOut?.(servicesPoint(scenario, r));
      const periodMs = 1000 / r.stepsPerSecond;
      figures.push({
        aggregation: services ? 'services' : 'coordinator',
        services,
        units: units ?? 0,
        shards: k,
        periodMs,
        computeMs: r.phases.compute,
        worker: r.cpu.workers / k,
        service: r.cpu.services / k,
        coordinator: r.cpu.coordinator / k,
        redis: r.cpu.redisNodes.map((c) => c / k),
      });
      console.error(
        `  ${scenario.name}, ${services || 'no'} services, K=${k}: ${periodMs.toFixed(1)} ms a step`,
      );
    }
  }
  const base = figures.find((f) => f.aggregation === 'coordinator' && f.shards === 1)!;
  console.log(
    `\n${scenario.name} payload, ${scenario.computeMs} ms simulated compute per shard, mean of ${scenario.steps} steps ` +
      `after ${scenario.warmup} warm-up steps; aggregated in the coordinator and by ${aggregators} summation services ` +
      `(${units ?? 'default'} units); CPU per shard in ms (worker: one worker process's)\n`,
  );
  console.log(
    textTable(
      [
        'aggregation',
        'K',
        'period',
        'period − compute',
        'compute / period',
        'efficiency vs coordinator K = 1',
        'worker',
        'services',
        'coordinator',
        'Redis',
        'total',
      ],
      figures.map((f) => [
        f.aggregation === 'services' ? `${f.services} services` : 'coordinator',
        String(f.shards),
        ms(f.periodMs),
        ms(f.periodMs - f.computeMs),
        `${((100 * f.computeMs) / f.periodMs).toFixed(1)}%`,
        `${((100 * base.periodMs) / f.periodMs).toFixed(1)}%`,
        f.worker.toFixed(2),
        f.service.toFixed(2),
        f.coordinator.toFixed(2),
        f.redis.map((c) => c.toFixed(2)).join(' + '),
        (f.worker + f.service + f.coordinator + f.redis.reduce((a, b) => a + b, 0)).toFixed(2),
      ]),
      new Set(Array.from({ length: 10 }, (_, i) => i + 1)),
    ),
  );
  console.log(`\nper-process CPU per shard (ProcessCpuPerShard): ${JSON.stringify(figures)}`);
  return figures;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);

/** A positive integer flag's value, or undefined when absent; anything else ends the benchmark, naming it. */
function numberFlag(args: string[], flag: string): number | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${flag} ${args[at + 1]}: give a positive integer`);
  return value;
}

async function main(args: string[]): Promise<void> {
  if (args.includes('--memory')) return memory();
  if (args.includes('--predict')) return printScalePrediction();
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
  const wanted = (name: string) => only === null || only === name;
  const gpuSpeedWorkers = args.includes('--workers')
    ? args[args.indexOf('--workers') + 1].split(',').map(Number)
    : [1, 2, 4];
  const aggregators = numberFlag(args, '--aggregators');
  if (!gpuSpeedWorkers.every((k) => Number.isInteger(k) && k >= 1))
    throw new Error(
      `--workers takes worker counts separated by commas (1,2,4), got ${gpuSpeedWorkers.join(',')}`,
    );
  if (aggregators !== undefined && gpuSpeedWorkers[0] !== 1)
    throw new Error(
      `--workers ${gpuSpeedWorkers.join(',')} with --aggregators: start the list with 1, the in-coordinator ` +
        'K = 1 period that every efficiency is measured against',
    );
  const started = performance.now();
  // The coordinator runs in this process: a first, unmeasured job compiles its code, which would
  // otherwise slow down whichever row comes first (K = 1, the baseline of every efficiency).
  await measure({ ...RESNET20, warmup: 0, steps: 10 }, 2);
  const points: StepTimePoint[] = [];
  for (const [scenario, ks] of [
    [RESNET20, [1, 2, 4, 8, 16]],
    [RESNET50, [1, 2, 4, 8]],
  ] as const) {
    if (!wanted(scenario.model)) continue;
    for (const r of await scaling(scenario, ks)) {
      points.push({
        shards: r.workers,
        mbPerShard: r.bytesPerStep / r.workers / 1e6,
        overheadMs: 1000 / r.stepsPerSecond - scenario.computeMs,
      });
    }
  }
  if (points.length >= 3) printModel(points);
  const masters = numberFlag(args, '--redis-masters') ?? 0;
  if (wanted('gpu-speed')) {
    if (aggregators === undefined)
      await scaling(RESNET20_GPU_SPEED, gpuSpeedWorkers, {
        partitions: Math.max(masters, 1),
        redisMasters: masters,
      });
    else
      await servicesComparison(RESNET20_GPU_SPEED, gpuSpeedWorkers, aggregators, numberFlag(args, '--units'));
  }
  if (wanted('partitions')) await partitioned(RESNET50, 2, 2);
  if (wanted('local-sgd')) await scaling(RESNET20_LOCAL_SGD, [1, 4, 8, 16]);
  // Fewer steps: three more clusters of the slowest kind, within the benchmark's few minutes.
  if (wanted('encodings')) await encodings({ ...RESNET50, steps: 3 }, 4);
  console.log(`\nbenchmark wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

export type { ProcessCpuPerShard } from './process-cpu';

// Only when run: the step-time model imports the figures' type from here.
if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
