/**
 * `npm run bench`: ResNet-20 training throughput at batch 128 (32×32 images) for one worker
 * computing alone, and for the cluster with 1 and 2 worker processes, plus the coordinator's
 * overhead per step (step wall time minus the slowest shard's compute). A benchmark, not a test.
 */
import { generateSyntheticTable, shardBatch } from '@resnet/data';
import { initComputeBackend, ShardTrainer } from '@resnet/engine';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { sgdStep } from '@resnet/optimizer';
import { median, runClusterJob } from './bench-cluster';

const BATCH = 128;
const STEPS = Number(process.env.BENCH_STEPS ?? 6);

async function singleWorker(): Promise<number> {
  const compute = await initComputeBackend((process.env.BENCH_BACKEND as never) ?? 'auto');
  const arch = architectureFor('resnet20', { numClasses: 10 });
  const layouts = layoutsOf(arch);
  const weights = initialWeights(layouts, Math.random);
  const velocity = new Float32Array(layouts.params.size);
  const trainer = new ShardTrainer(arch);
  const table = generateSyntheticTable({ size: BATCH * 4, height: 32, width: 32, numClasses: 10, seed: 1 });
  const sampling = {
    batchSize: BATCH,
    shardsPerStep: 1,
    seed: 0,
    augment: { padCrop: 4, flip: true },
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  };
  const rates: number[] = [];
  for (let step = 0; step < STEPS + 1; step++) {
    const started = performance.now();
    trainer.setWeights(weights);
    const result = await trainer.trainShard(await shardBatch(table, sampling, step, 0));
    for (let i = 0; i < result.gradientSum.length; i++) result.gradientSum[i] /= BATCH;
    sgdStep(weights.params, result.gradientSum, velocity, 0.01, {
      momentum: 0.9,
      weightDecay: 1e-4,
      nesterov: false,
    });
    if (step > 0) rates.push((BATCH * 1000) / (performance.now() - started));
  }
  console.log(`engine: ${compute.backend} on ${compute.device}`);
  return median(rates);
}

async function main(): Promise<void> {
  const job = {
    model: 'resnet20',
    dataset: { kind: 'synthetic', trainSize: BATCH * 16, testSize: 64, imageSize: 32, numClasses: 10 },
    batchSize: BATCH,
    maxSteps: STEPS + 1,
    evalEvery: 0,
  };
  const alone = await singleWorker();
  const rows: string[] = [`| one worker, in process (no Redis) | ${alone.toFixed(1)} | – | 1.00 |`];
  for (const workers of [1, 2]) {
    const { steps } = await runClusterJob(workers, { ...job, shardsPerStep: workers });
    const rate = median(steps.map((s) => s.imagesPerSecond));
    const overhead = median(steps.map((s) => s.stepMs - s.slowestShardMs));
    rows.push(
      `| cluster, ${workers} worker process${workers > 1 ? 'es' : ''} | ${rate.toFixed(1)} | ${overhead.toFixed(0)} | ${(rate / alone).toFixed(2)} |`,
    );
  }
  console.log(`\nResNet-20, batch ${BATCH}, 32×32, median of ${STEPS} steps after one warm-up step\n`);
  console.log('| setup | images/s | coordinator overhead per step (ms) | ratio to one worker |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
