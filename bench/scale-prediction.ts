/**
 * `npm run bench:scale -- --predict`, and the held-out check of the step-time model: calculations
 * from measured costs, printed as such (bench/step-time-model.ts has the model).
 */
import { textTable } from '../apps/cli/src/text-table';
import {
  costForShare,
  CRITICAL_PATH_TERMS,
  fitLocalModel,
  LocalPoint,
  MeasuredCosts,
  PER_MB_COSTS,
  predictLocalPeriod,
  predictServiceStep,
  ServiceDeployment,
  StepPrediction,
} from './step-time-model';

type ModelName = 'resnet20' | 'resnet50';

/**
 * The costs measured on the 2-core development machine (docs/scaling.md, "The step-time model",
 * names the run behind each): per payload, as folding 1 MB that fits in cache costs less than
 * folding 100 MB that does not.
 */
export const DEVELOPMENT_MACHINE_COSTS: Record<ModelName, { mb: number; costs: MeasuredCosts }> = {
  resnet20: {
    mb: 1.09,
    costs: {
      workerPerShardMs: 1.94,
      workerPerMbMs: 1.405,
      queueRedisPerShardMs: 0.3,
      servicePerMessageMs: 0.15,
      servicePerMbMs: 0.55,
      serviceUpdatePerMbMs: 1.2,
      coordinatorPerStepMs: 3,
      coordinatorPerReportMs: 0.2,
      redisPerMbMs: 0.61,
      shardSpreadMs: 0.5,
    },
  },
  resnet50: {
    mb: 102.5,
    costs: {
      workerPerShardMs: 1.94,
      workerPerMbMs: 1.405,
      queueRedisPerShardMs: 0.3,
      servicePerMessageMs: 0.15,
      servicePerMbMs: 1.0,
      serviceUpdatePerMbMs: 1.5,
      coordinatorPerStepMs: 3,
      coordinatorPerReportMs: 0.2,
      redisPerMbMs: 4.4,
      shardSpreadMs: 0.5,
    },
  },
};

/** A GPU's compute per shard: ResNet-20 10 ms per 64 images; ResNet-50 21 ms per 32 (1,500 images/s). */
export const GPU_COMPUTE_MS: Record<ModelName, number> = { resnet20: 10, resnet50: 21 };

/** Eight GPU workers and one summation service per machine, one Redis for durability, today's queue. */
export function gpuDeployment(
  model: ModelName,
  shards: number,
  linkGbps: number,
  sumOnMachine: boolean,
): ServiceDeployment {
  return {
    shards,
    workersPerMachine: 8,
    cpuOnlyMachines: 0,
    mb: DEVELOPMENT_MACHINE_COSTS[model].mb,
    computeMs: GPU_COMPUTE_MS[model],
    linkGbps,
    sumOnMachine,
    standingShards: false,
    serviceThreads: 1,
    durableEverySteps: 1,
    redisMasters: 1,
  };
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The critical path's terms beyond compute, largest first: what a step waits for. */
function largestTerms(p: StepPrediction, count: number): string {
  return CRITICAL_PATH_TERMS.map((name) => [name, p.terms[name]] as const)
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`)
    .join(', ');
}

export function printScalePrediction(
  measured: Record<ModelName, { mb: number; costs: MeasuredCosts }> = DEVELOPMENT_MACHINE_COSTS,
): void {
  const ks = [8, 32, 128];
  const rows: string[][] = [];
  for (const model of ['resnet20', 'resnet50'] as const)
    for (const linkGbps of [10, 100])
      for (const sum of [false, true]) {
        const cells = ks.map((k) => {
          const p = predictServiceStep(measured[model].costs, gpuDeployment(model, k, linkGbps, sum));
          return `${percent(p.computeShare)} (${p.periodMs.toFixed(0)} ms)`;
        });
        rows.push([model, `${linkGbps} Gbit/s`, sum ? 'yes' : 'no', ...cells]);
      }
  console.log(
    '\nA CALCULATION, not a measurement: compute / period of the summation-service path at GPU speed ' +
      `(ResNet-20 ${GPU_COMPUTE_MS.resnet20} ms per 64-image shard, ResNet-50 ${GPU_COMPUTE_MS.resnet50} ms per 32), ` +
      '8 GPU workers and one service per machine, costs measured on the development machine:\n',
  );
  console.log(
    textTable(['model', 'links', 'sum on machine', ...ks.map((k) => `K = ${k}`)], rows, new Set([3, 4, 5])),
  );

  console.log('\nHow it moves with the assumed GPU speed (K = 128, 100 Gbit/s, sum on each machine):\n');
  const speeds = [0.5, 1, 2, 4];
  console.log(
    textTable(
      ['model', ...speeds.map((s) => `compute × ${s}`)],
      (['resnet20', 'resnet50'] as const).map((model) => [
        model,
        ...speeds.map((s) => {
          const d = gpuDeployment(model, 128, 100, true);
          const p = predictServiceStep(measured[model].costs, { ...d, computeMs: d.computeMs * s });
          return `${percent(p.computeShare)} (${(d.computeMs * s).toFixed(1)} ms)`;
        }),
      ]),
      new Set([1, 2, 3, 4]),
    ),
  );

  const target = 0.7;
  const d = gpuDeployment('resnet50', 128, 100, true);
  const costs = measured.resnet50.costs;
  const p = predictServiceStep(costs, d);
  console.log(
    `\nResNet-50, K = 128 on 16 machines, 100 Gbit/s, sum on each machine: compute / period ${percent(p.computeShare)} ` +
      `(period ${p.periodMs.toFixed(0)} ms, bound: ${p.bound}; largest terms: ${largestTerms(p, 3)}).`,
  );
  if (p.computeShare >= target) return;
  const budget = d.computeMs / target - d.computeMs;
  console.log(
    `  ${percent(target)} allows ${budget.toFixed(1)} ms per step beyond compute; over it alone: ` +
      CRITICAL_PATH_TERMS.filter((name) => p.terms[name] > budget)
        .map((name) => `${name} ${p.terms[name].toFixed(1)} ms`)
        .join(', '),
  );
  // Durability overlaps the next step, but must fit in the period it is written during.
  const spreadOver = Math.ceil(p.terms.durability / (d.computeMs / target));
  if (spreadOver > 1)
    console.log(
      `  durability: ${p.terms.durability.toFixed(0)} ms of Redis CPU per step for the weights and optimizer state; ` +
        `within a ${(d.computeMs / target).toFixed(0)} ms period only over ${spreadOver} Redis masters, or durable every ${spreadOver} steps`,
    );
  // With every CPU cost free and shards standing, only compute, stragglers and the network are left.
  const free: MeasuredCosts = { ...zeroCosts(costs), shardSpreadMs: costs.shardSpreadMs };
  const floor = (change: Partial<ServiceDeployment>): StepPrediction =>
    predictServiceStep(free, { ...d, standingShards: true, ...change });
  const network = floor({});
  if (network.computeShare < target) {
    console.log(
      `  with every CPU cost at 0 and shards standing, compute / period is still ${percent(network.computeShare)}: ` +
        `the NIC forbids it (push ${network.terms.push.toFixed(1)} + pull ${network.terms.pull.toFixed(1)} ms ` +
        'of each machine, after the compute and before the next). Halving the bytes (16-bit gradients and ' +
        `parameters): ${percent(floor({ mb: d.mb / 2 }).computeShare)}; two 100 Gbit/s NICs: ` +
        `${percent(floor({ linkGbps: 2 * d.linkGbps }).computeShare)}; both: ` +
        `${percent(floor({ mb: d.mb / 2, linkGbps: 2 * d.linkGbps }).computeShare)}. ` +
        'Beyond that, only overlapping the push with the backward pass and the pull with the next forward pass.',
    );
    return;
  }
  // Each per-MB cost's own ceiling: the most it may cost with the other two free and shards standing.
  for (const field of PER_MB_COSTS) {
    const others = Object.fromEntries(PER_MB_COSTS.filter((f) => f !== field).map((f) => [f, 0]));
    const ceiling = costForShare({ ...costs, ...others }, { ...d, standingShards: true }, field, target);
    console.log(
      ceiling === null
        ? `  ${field}: out of reach even at 0, with shards standing and the other CPU per MB free`
        : `  ${field} must fall from ${costs[field]} to ${ceiling.toFixed(3)} ms/MB, with shards standing and the other CPU per MB free`,
    );
  }
}

function zeroCosts(costs: MeasuredCosts): MeasuredCosts {
  return Object.fromEntries(Object.keys(costs).map((field) => [field, 0])) as unknown as MeasuredCosts;
}

/**
 * The held-out check: the model fitted to two rows (K = 1 and 2) predicts the larger K on this
 * machine, printed before they run, and the K of `scripts/scale-check` on a 16-core machine; the
 * function returned prints each held-out row's error once it is measured.
 */
export function printHeldOutPrediction(
  [one, two]: readonly [LocalPoint, LocalPoint],
  shardSpreadMs: number,
  cores: number,
  predictShards: readonly number[],
): (measured: LocalPoint) => void {
  const model = fitLocalModel(one, two, cores, shardSpreadMs);
  const computeMs = one.computeMs;
  console.log(
    `\nA CALCULATION: the step-time model fitted to K = ${one.shards} and ${two.shards} (shard spread ${shardSpreadMs.toFixed(2)} ms) predicts, ` +
      `on these ${cores} cores: ` +
      predictShards
        .map((k) => {
          const p = predictLocalPeriod(model, k, computeMs);
          return `K = ${k}: ${p.periodMs.toFixed(1)} ms (${p.bound})`;
        })
        .join(', ') +
      '; on 16 cores: ' +
      [8, 12]
        .map((k) => {
          const p = predictLocalPeriod({ ...model, cores: 16 }, k, computeMs);
          return `K = ${k}: ${p.periodMs.toFixed(1)} ms (${p.bound})`;
        })
        .join(', '),
  );
  return (measured) => {
    const predicted = predictLocalPeriod(model, measured.shards, measured.computeMs).periodMs;
    console.log(
      `held out K = ${measured.shards}: predicted ${predicted.toFixed(1)} ms, measured ${measured.periodMs.toFixed(1)} ms, ` +
        `error ${percent((predicted - measured.periodMs) / measured.periodMs)}`,
    );
  };
}
