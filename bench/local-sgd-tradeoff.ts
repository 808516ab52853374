/**
 * `npm run bench:local-sgd`: what local SGD costs in accuracy. The same ResNet-20 job on the
 * generated dataset, through the cluster with 2 worker processes, with localSteps H = 1, 2, 4 and
 * 8: the same global batches in the same order under the same schedule, so only how often the
 * shards synchronise differs. Each H runs with several seeds (initial weights and data order);
 * prints the mean and range over them of the final test accuracy and loss and of the training loss
 * of the last epoch, and the messages each image costs: one table for the batch in 2 shards, one
 * for 8 smaller shards. LOCAL_STEPS (e.g. "1,4"), SHARDS (e.g. "2"), SEEDS, EPOCHS and
 * BENCH_BACKEND override the defaults.
 */
import { StepMetrics } from '@resnet/protocol';
import { runClusterJob } from './bench-cluster';

const LOCAL_STEPS = (process.env.LOCAL_STEPS ?? '1,2,4,8').split(',').map(Number);
const SEEDS = Number(process.env.SEEDS ?? 3);
const EPOCHS = Number(process.env.EPOCHS ?? 2);
const SHARDS = (process.env.SHARDS ?? '2,8').split(',').map(Number);
const WORKERS = 2;
const JOB = {
  model: 'resnet20',
  dataset: { kind: 'synthetic', trainSize: 1024, testSize: 512, imageSize: 16, numClasses: 10 },
  batchSize: 32,
  epochs: EPOCHS,
  schedule: { decay: 'cosine', warmupEpochs: 0.2 },
  evalEvery: EPOCHS, // once, at the end
  checkpointEvery: 0,
};

interface Outcome {
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  readonly versions: number;
  readonly steps: number;
  readonly seconds: number;
}

/** Mean loss over the last epoch's global steps (a local-SGD record covers a round of several). */
function lastEpochLoss(steps: StepMetrics[]): number {
  const last = steps.at(-1)!;
  const from = last.step - last.step / last.epoch;
  let lossSum = 0;
  let covered = 0;
  steps.forEach((s, i) => {
    const span = s.step - (i === 0 ? 0 : steps[i - 1].step);
    if (s.step > from) {
      lossSum += s.loss * span;
      covered += span;
    }
  });
  return lossSum / covered;
}

async function train(shardsPerStep: number, localSteps: number, seed: number): Promise<Outcome> {
  const started = Date.now();
  const { steps, evals } = await runClusterJob(WORKERS, { ...JOB, shardsPerStep, localSteps, seed }, 0);
  const test = evals.at(-1)!;
  return {
    trainLoss: lastEpochLoss(steps),
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    versions: steps.length,
    steps: steps.at(-1)!.step,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Mean (min–max). */
function summary(values: number[], digits = 3): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const f = (v: number) => v.toFixed(digits);
  return `${f(mean)} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

async function table(shards: number): Promise<void> {
  const rows: string[] = [];
  for (const localSteps of LOCAL_STEPS) {
    const runs: Outcome[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      runs.push(await train(shards, localSteps, seed));
      console.log(`${shards} shards, H = ${localSteps}, seed ${seed}: ${JSON.stringify(runs.at(-1))}`);
    }
    const { versions, steps } = runs[0];
    const cells = [
      localSteps,
      versions,
      (((versions * shards) / (steps * JOB.batchSize)) * 1000).toFixed(1),
      summary(runs.map((r) => r.trainLoss)),
      summary(runs.map((r) => r.testLoss)),
      summary(
        runs.map((r) => r.testAccuracy * 100),
        1,
      ),
      summary(
        runs.map((r) => r.seconds),
        0,
      ),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  const { dataset } = JOB;
  console.log(
    `\nResNet-20, generated ${dataset.numClasses}-class ${dataset.imageSize}×${dataset.imageSize} images ` +
      `(${dataset.trainSize} train, ${dataset.testSize} test), batch ${JOB.batchSize} in ${shards} shards, ` +
      `${EPOCHS} epochs, lr 0.1 cosine, momentum 0.9, ${WORKERS} worker processes; ` +
      `mean (min–max) over seeds 0–${SEEDS - 1}\n`,
  );
  console.log(
    '| H | weights versions | messages per 1,000 images | train loss, last epoch | test loss | test accuracy (%) | wall s |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log();
}

async function main(): Promise<void> {
  for (const shards of SHARDS) await table(shards);
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
