/** One measured configuration: K shards with gradient messages of `mbPerShard` megabytes each. */
export interface StepTimePoint {
  readonly shards: number;
  readonly mbPerShard: number;
  /** Step period minus the simulated compute time. */
  readonly overheadMs: number;
}

/**
 * T(K) = compute + a + d·MB + b·K + c·MB·K, MB being the size of one shard's messages (the model's
 * size): a per step; d per megabyte per step (the optimizer and publishing the weights); b per
 * shard (queue, events, round trips); c per megabyte per shard (each shard moves the weights in,
 * its gradient out, and the coordinator reads that gradient back and folds it).
 */
export interface StepTimeModel {
  readonly fixedMs: number;
  readonly perMbMs: number;
  readonly perShardMs: number;
  readonly perShardMbMs: number;
}

function terms(shards: number, mb: number): number[] {
  return [1, mb, shards, shards * mb];
}

/**
 * Least-squares fit of the model to the points' relative errors (each point weighed by
 * 1/overhead), so that the seconds-long steps of a big model do not drown out the small ones.
 * Points of a single payload size cannot tell a per-megabyte cost from a fixed one: then only
 * T = compute + a + b·K is fitted, and the per-megabyte terms are reported as 0.
 */
export function fitStepTimeModel(points: readonly StepTimePoint[]): StepTimeModel {
  const onePayload = new Set(points.map((p) => p.mbPerShard.toFixed(3))).size === 1;
  const used = onePayload ? [0, 2] : [0, 1, 2, 3];
  const rows = points.map((p) => used.map((i) => terms(p.shards, p.mbPerShard)[i] / p.overheadMs));
  const n = rows[0].length;
  const normal = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => rows.reduce((s, r) => s + r[i] * r[j], 0)),
  );
  // Every weighed target is overhead / overhead = 1.
  const rhs = Array.from({ length: n }, (_, i) => rows.reduce((s, r) => s + r[i], 0));
  const fitted = solve(normal, rhs);
  const [fixedMs, perMbMs, perShardMs, perShardMbMs] = [0, 1, 2, 3].map((i) =>
    used.includes(i) ? fitted[used.indexOf(i)] : 0,
  );
  return { fixedMs, perMbMs, perShardMs, perShardMbMs };
}

export function predictOverheadMs(model: StepTimeModel, shards: number, mbPerShard: number): number {
  const [one, mb, k, kMb] = terms(shards, mbPerShard);
  return model.fixedMs * one + model.perMbMs * mb + model.perShardMs * k + model.perShardMbMs * kMb;
}

/** Gaussian elimination with partial pivoting. */
function solve(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const m = matrix.map((row, i) => [...row, rhs[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) pivot = row;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let row = col + 1; row < n; row++) {
      const f = m[row][col] / m[col][col];
      for (let k = col; k <= n; k++) m[row][k] -= f * m[col][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = m[row][n];
    for (let k = row + 1; k < n; k++) sum -= m[row][k] * x[k];
    x[row] = sum / m[row][row];
  }
  return x;
}

/**
 * What each process kind costs, measured on the development machine (docs/scaling.md says where
 * each figure comes from). The model below multiplies them out; it measures nothing itself.
 */
export interface MeasuredCosts {
  /** Worker CPU per shard that does not grow with the payload: taking the shard, the report, heartbeats. */
  readonly workerPerShardMs: number;
  /** Worker CPU per MB pushed or pulled: encoding, checksums, socket writes and reads, decoding. */
  readonly workerPerMbMs: number;
  /** The queue's Redis CPU per shard job (BullMQ's scripts); nothing per step with standing shards. */
  readonly queueRedisPerShardMs: number;
  /** Service CPU per unit message received or sent, whatever its size: a socket call, framing, bookkeeping. */
  readonly servicePerMessageMs: number;
  /** Service CPU per MB received and folded (checksum, finiteness, the float64 fold) or sent. */
  readonly servicePerMbMs: number;
  /** Service CPU per MB of the units it owns, once per step: the mean, SGD, encoding the next units. */
  readonly serviceUpdatePerMbMs: number;
  /** Coordinator CPU per step (the schedule, the fenced commit), and per service report. */
  readonly coordinatorPerStepMs: number;
  readonly coordinatorPerReportMs: number;
  /** Redis CPU per MB written for durability (weights and optimizer state, off the machine). */
  readonly redisPerMbMs: number;
  /** Standard deviation of one shard's time (compute and worker), ms. */
  readonly shardSpreadMs: number;
}

/** A deployment of the summation-service path to predict. */
export interface ServiceDeployment {
  /** K: one GPU worker per shard. */
  readonly shards: number;
  /** Workers per machine; each worker machine also runs one summation service. */
  readonly workersPerMachine: number;
  /** Machines that run only a summation service. */
  readonly cpuOnlyMachines: number;
  /** The model's parameters, MB (a gradient, or the parameters, once). */
  readonly mb: number;
  /** One shard's compute on its GPU, ms. */
  readonly computeMs: number;
  /** Each machine's one NIC, full duplex, Gbit/s. */
  readonly linkGbps: number;
  /** Units the parameter vector is cut into; `defaultUnits` when absent. */
  readonly units?: number;
  /**
   * Whether a machine's service sums its own workers' shards before the network (one message per
   * unit and machine) and fans the pulled units out to them in memory; otherwise every worker
   * pushes to and pulls from every unit's owner itself.
   */
  readonly sumOnMachine: boolean;
  /** Shards that stay with their workers across steps (the queue carries only reassignment), or a job per shard per step. */
  readonly standingShards: boolean;
  /** Cores one service folds on. */
  readonly serviceThreads: number;
  /** Weights and optimizer state written off the machine every this many steps. */
  readonly durableEverySteps: number;
  /** Redis masters the durability writes spread over. */
  readonly redisMasters: number;
}

/** The largest unit: BytePS's 4 MB. */
export const MAX_UNIT_MB = 4;

/** Units of at most 4 MB and at least 2 per service, so that a small model spreads too. */
export function defaultUnits(mb: number, services: number): number {
  return Math.max(Math.ceil(mb / MAX_UNIT_MB), 2 * services);
}

/**
 * Expected maximum of K shard times with standard deviation σ, above their mean: σ·√(2 ln K), the
 * bound for normally distributed times (it is exact in the limit and above the true value for
 * every K; 0 for one shard).
 */
export function stragglerMs(shards: number, spreadMs: number): number {
  return spreadMs * Math.sqrt(2 * Math.log(shards));
}

/**
 * The time of n units through stages that each handle one unit at a time, a unit entering a stage
 * once the stage before has passed it on: the first unit through all stages, then one unit per
 * the slowest stage's time. `stageMs` are each stage's times for all n units together.
 */
export function pipelineMs(stageMs: readonly number[], n: number): number {
  const sum = stageMs.reduce((a, b) => a + b, 0);
  return sum / n + ((n - 1) / n) * Math.max(...stageMs);
}

/** Where a step's time goes, ms per step. */
export interface StepTerms {
  readonly compute: number;
  /** The expected slowest shard's time beyond the mean. */
  readonly straggler: number;
  /** One worker's CPU: after its compute and before the next (a GPU worker is one process). */
  readonly workerCpu: number;
  /** The queue's Redis for the step's shard jobs, serial in one thread. */
  readonly queueRedis: number;
  /** Gradient units to their owners: the busier of a worker machine's NIC out and a service's NIC in. */
  readonly push: number;
  /** The busiest service's CPU: messages, folds, the update, the pulls it serves. */
  readonly serviceCpu: number;
  /** Of serviceCpu, the messages of its fan-in: one per sender and unit (incast). */
  readonly incast: number;
  /** Parameter units back: the busier of a service's NIC out and a worker machine's NIC in. */
  readonly pull: number;
  /** The coordinator: its step, one report per service, the commit. */
  readonly coordinator: number;
  /** One machine's NIC per step, the busier direction, durability writes included. */
  readonly nic: number;
  /** The durability writes' share of Redis's CPU, per step (they overlap the next step). */
  readonly durability: number;
}

/** The terms the critical path adds to compute (incast is part of serviceCpu; nic and durability overlap). */
export const CRITICAL_PATH_TERMS = [
  'straggler',
  'workerCpu',
  'queueRedis',
  'push',
  'serviceCpu',
  'pull',
  'coordinator',
] as const;

export interface StepPrediction {
  readonly periodMs: number;
  /** compute / period: how busy a GPU is. */
  readonly computeShare: number;
  /** The term that sets the period: `critical path` or a resource that is busier than it. */
  readonly bound: 'critical path' | 'nic' | 'redis';
  readonly criticalPathMs: number;
  /** The busiest service's units over the mean's: ceil(U/S) / (U/S). */
  readonly unevenness: number;
  readonly services: number;
  readonly units: number;
  readonly terms: StepTerms;
}

/**
 * The step period of the summation-service path, a calculation from measured costs:
 *
 *     period = max(critical path, NIC per step, Redis per step)
 *     critical path = compute + straggler + worker CPU + queue Redis
 *                   + pipeline(push, service CPU, pull) over the units of one service + coordinator
 *
 * Every other resource (a GPU, a worker's CPU, a service's, the coordinator's) works only on the
 * critical path, so the path bounds it. The NIC also carries the durability writes and Redis holds
 * the queue and them: those overlap the next step, and bound the period only if busier than it.
 * One NIC per machine carries its workers' and its service's traffic; a service owns ⌈U/S⌉ units
 * of M/U MB at most (uneven units), and receives each from every sender not on its machine at once
 * (incast: the NIC's receive side in `push`, one message each in `serviceCpu`).
 */
export function predictServiceStep(costs: MeasuredCosts, d: ServiceDeployment): StepPrediction {
  const k = d.shards;
  const perMachine = Math.min(d.workersPerMachine, k);
  const workerMachines = Math.ceil(k / d.workersPerMachine);
  const services = workerMachines + d.cpuOnlyMachines;
  const units = d.units ?? defaultUnits(d.mb, services);
  const unitsPerService = Math.ceil(units / services);
  const unevenness = unitsPerService / (units / services);
  const ownedMb = (d.mb / units) * unitsPerService; // the busiest service's share
  const meanOwnedMb = d.mb / services;
  const msPerMb = 8 / d.linkGbps; // 1 Gbit/s moves 1 MB in 8 ms

  // Who sends each unit to its owner (and receives it back), and how many of them share its machine.
  const senders = d.sumOnMachine ? workerMachines : k;
  const localSenders = d.cpuOnlyMachines > 0 ? 0 : d.sumOnMachine ? 1 : perMachine;
  const fanIn = senders - localSenders;
  // A worker machine's own traffic: each sender on it moves the units owned elsewhere.
  const machineSenders = d.sumOnMachine ? 1 : perMachine;
  const machineRemoteMb = machineSenders * (d.mb - meanOwnedMb);
  const serviceRemoteMb = fanIn * ownedMb;
  const push = Math.max(machineRemoteMb, serviceRemoteMb) * msPerMb;
  const pull = push; // the same bytes the other way
  const durableMb = (2 * ownedMb) / d.durableEverySteps; // weights and optimizer state
  // Each direction carries one phase's workers' side and the other's service side (full duplex).
  const nic = (machineRemoteMb + serviceRemoteMb + durableMb) * msPerMb;

  // The busiest service: its senders' messages and megabytes in, as many out for the pulls; with
  // the sum on the machine also its own workers' whole gradients in, and the pulled parameters
  // written once into the memory they share with them.
  const localMessages = d.sumOnMachine ? (perMachine + 1) * units : 0;
  const localMb = d.sumOnMachine ? (perMachine + 1) * d.mb : 0;
  const incast = (2 * senders * unitsPerService * costs.servicePerMessageMs) / d.serviceThreads;
  const serviceCpu =
    incast +
    (localMessages * costs.servicePerMessageMs +
      (localMb + 2 * senders * ownedMb) * costs.servicePerMbMs +
      ownedMb * costs.serviceUpdatePerMbMs) /
      d.serviceThreads;

  const terms: StepTerms = {
    compute: d.computeMs,
    straggler: stragglerMs(k, costs.shardSpreadMs),
    workerCpu: costs.workerPerShardMs + 2 * d.mb * costs.workerPerMbMs,
    queueRedis: d.standingShards ? 0 : k * costs.queueRedisPerShardMs,
    push,
    serviceCpu,
    incast,
    pull,
    coordinator: costs.coordinatorPerStepMs + services * costs.coordinatorPerReportMs,
    nic,
    durability: (2 * d.mb * costs.redisPerMbMs) / d.redisMasters / d.durableEverySteps,
  };
  const criticalPathMs =
    terms.compute +
    terms.straggler +
    terms.workerCpu +
    terms.queueRedis +
    pipelineMs([push, serviceCpu, pull], unitsPerService) +
    terms.coordinator;
  const redis = terms.queueRedis + terms.durability;
  const [bound, periodMs] = (
    [
      ['critical path', criticalPathMs],
      ['nic', nic],
      ['redis', redis],
    ] as const
  ).reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    periodMs,
    computeShare: d.computeMs / periodMs,
    bound,
    criticalPathMs,
    unevenness,
    services,
    units,
    terms,
  };
}

/** The cost fields of MeasuredCosts that are CPU per megabyte, the ones a faster implementation would cut. */
export const PER_MB_COSTS = ['workerPerMbMs', 'servicePerMbMs', 'serviceUpdatePerMbMs'] as const;

/**
 * The largest value of one cost at which compute / period reaches `share`, all else unchanged, or
 * null when even 0 does not reach it (another term forbids it). Bisection: the period grows with
 * every cost.
 */
export function costForShare(
  costs: MeasuredCosts,
  d: ServiceDeployment,
  field: keyof MeasuredCosts,
  share: number,
): number | null {
  const shareAt = (value: number): number => predictServiceStep({ ...costs, [field]: value }, d).computeShare;
  if (shareAt(0) < share) return null;
  let [low, high] = [0, Math.max(costs[field], 1)];
  while (shareAt(high) >= share) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (shareAt(mid) >= share) low = mid;
    else high = mid;
  }
  return low;
}

/** One row of `bench:scale` on one machine: every process shares its cores. */
export interface LocalPoint {
  readonly shards: number;
  readonly computeMs: number;
  readonly periodMs: number;
  /** All workers' CPU per step, ms: work that runs side by side, one process per shard. */
  readonly workerCpuMs: number;
  /** CPU per step of each process on the step's serial path (coordinator, Redis, services), ms. */
  readonly serialCpuMs: Readonly<Record<string, number>>;
}

/** A line in K: fixed + per shard × K. */
export interface CpuLine {
  readonly fixedMs: number;
  readonly perShardMs: number;
}

/** The model fitted to two rows of one machine, for held-out prediction on the same machine or a bigger one. */
export interface LocalModel {
  readonly cores: number;
  /** Standard deviation of one shard's time, ms (measured at K = 1). */
  readonly shardSpreadMs: number;
  readonly workerCpu: CpuLine;
  readonly serialCpu: Readonly<Record<string, CpuLine>>;
  /** Wall time per step on no process's CPU: waits, wake-ups, round trips. */
  readonly waitMs: number;
  /**
   * How much of the workers' CPU per core lands on the critical path: the workers run in the same
   * window as the serial processes (all shards finish together) and take cores from them.
   */
  readonly contention: number;
}

const lineAt = (line: CpuLine, shards: number): number => line.fixedMs + line.perShardMs * shards;

/** What the critical path adds to compute and the straggler at K. */
function pathMs(
  m: Omit<LocalModel, 'waitMs' | 'contention'>,
  shards: number,
): { serial: number; perCore: number } {
  const serial = Object.values(m.serialCpu).reduce((sum, line) => sum + lineAt(line, shards), 0);
  return { serial, perCore: lineAt(m.workerCpu, shards) / m.cores };
}

/**
 * Fits the model to two rows (K = 1 and 2 in the bench). Each process kind's CPU per step is a line
 * in K through the two rows; the period is
 *
 *     compute + straggler(K) + wait + serial CPU(K) + contention × workers' CPU(K) / cores
 *
 * with wait and contention solved from the two rows. On a machine with more cores the contention
 * term shrinks with them; the cores also bound the period from below (predictLocalPeriod).
 */
export function fitLocalModel(
  a: LocalPoint,
  b: LocalPoint,
  cores: number,
  shardSpreadMs: number,
): LocalModel {
  const line = (ya: number, yb: number): CpuLine => {
    const perShardMs = (yb - ya) / (b.shards - a.shards);
    return { fixedMs: ya - perShardMs * a.shards, perShardMs };
  };
  const serialCpu = Object.fromEntries(
    Object.keys(a.serialCpuMs).map((kind) => [kind, line(a.serialCpuMs[kind], b.serialCpuMs[kind])]),
  );
  const cpu = { cores, shardSpreadMs, workerCpu: line(a.workerCpuMs, b.workerCpuMs), serialCpu };
  // rest = wait + contention × perCore at both rows: two equations, two unknowns.
  const [ra, rb] = [a, b].map((p) => {
    const { serial, perCore } = pathMs(cpu, p.shards);
    return { rest: p.periodMs - p.computeMs - stragglerMs(p.shards, shardSpreadMs) - serial, perCore };
  });
  const contention = (rb.rest - ra.rest) / (rb.perCore - ra.perCore);
  return { ...cpu, waitMs: ra.rest - contention * ra.perCore, contention };
}

/**
 * The period at K shards: the critical path, or compute and the straggler plus all processes' CPU
 * over the cores when that is longer (a step's CPU work falls between two computes).
 */
export function predictLocalPeriod(
  m: LocalModel,
  shards: number,
  computeMs: number,
): { periodMs: number; bound: 'critical path' | 'cores' } {
  const { serial, perCore } = pathMs(m, shards);
  const before = computeMs + stragglerMs(shards, m.shardSpreadMs);
  const path = before + m.waitMs + serial + m.contention * perCore;
  const cores = before + serial / m.cores + perCore;
  return cores > path ? { periodMs: cores, bound: 'cores' } : { periodMs: path, bound: 'critical path' };
}
