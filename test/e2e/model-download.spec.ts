import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import {
  evalBatch,
  IMAGENET_EVAL_CROP_FRACTION,
  IMAGENET_NORMALIZATION,
  imageAt,
  ImageTable,
  openDatasetSplits,
  ShardImages,
} from '@resnet/data';
import { initComputeBackend, ShardTrainer } from '@resnet/engine';
import { layoutsOf, ModelWeights, ResNetArchitecture } from '@resnet/model';
import { architectureOf, ExportedModelMetadata, TrainingJobSpec } from '@resnet/job';
import { maxAbsDifference } from '../support/reference-training';
import { TestCluster } from '../support/test-cluster';
import { makeTempDir, WNIDS, writeImageNetStyleFolder } from '../data/imagenet-fixtures';
import { evalLogits } from '../model/model-fixtures';

const CLI = path.resolve(__dirname, '../../apps/cli/src/main.js');
const STEPS = 3;
const SYNTHETIC_JOB = {
  model: 'resnet20',
  shortcut: 'zero-pad',
  dataset: { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 10, seed: 2 },
  batchSize: 16,
  shardsPerStep: 2,
  maxSteps: STEPS,
  evalEvery: 0,
};

function predict(model: tf.LayersModel, batch: ShardImages): Float32Array {
  return tf.tidy(
    () =>
      (
        model.predict(tf.tensor4d(batch.x, [batch.count, batch.height, batch.width, 3])) as tf.Tensor
      ).dataSync() as Float32Array,
  );
}

function argmax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i] > values[start + best]) best = i;
  return best;
}

/** `resnet-cluster predict …`: its stdout's table rows as [rank, class, probability] (one table per image). */
async function runPredict(args: string[]): Promise<string[][]> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'predict',
    '--backend',
    'wasm',
    ...args,
  ]);
  return stdout
    .split('\n')
    .filter((line) => /^\d+\.\s/.test(line))
    .map((line) => line.trim().split(/\s+/));
}

describe('trained models out: GET /jobs/:id/model and the predict command', function () {
  let cluster: TestCluster;
  let dataRoot: string;
  let job: { id: string; spec: TrainingJobSpec };
  let arch: ResNetArchitecture;
  let weights: ModelWeights;
  let testImages: ShardImages;

  before(async () => {
    await initComputeBackend('wasm');
    dataRoot = await makeTempDir('models');
    await writeImageNetStyleFolder(path.join(dataRoot, 'imagenet'), 2);
    cluster = await TestCluster.start({ workers: 1, dataRoot });
    const submitted = await cluster.submit(SYNTHETIC_JOB);
    const done = await cluster.waitForJob(submitted.id);
    assert.equal(done.status, 'completed', done.error);
    job = done;
    arch = architectureOf(job.spec);
    weights = await cluster.weights(layoutsOf(arch), job.id, STEPS);
    const { test } = await openDatasetSplits(job.spec.dataset, dataRoot);
    testImages = await evalBatch(test, 0, test.size, job.spec.normalization);
  });
  after(async () => {
    await cluster?.stop();
    await fs.rm(dataRoot, { recursive: true, force: true });
  });

  it('serves the latest weights as a LayersModel whose logits are the trainer’s (tf.loadLayersModel over HTTP)', async () => {
    const model = await tf.loadLayersModel(`${cluster.url}/jobs/${job.id}/model`);
    const beside = await tf.loadLayersModel(`${cluster.url}/jobs/${job.id}/model/model.json`);
    try {
      const metadata = model.getUserDefinedMetadata() as ExportedModelMetadata;
      assert.equal(metadata.step, STEPS);
      assert.deepEqual(metadata.classNames, job.spec.classNames);
      assert.deepEqual(metadata.normalization, job.spec.normalization);
      assert.equal(metadata.evalCropFraction, 1);

      const logits = predict(model, testImages);
      const difference = maxAbsDifference(logits, await evalLogits(arch, weights, testImages));
      assert.ok(difference <= 1e-4, `logits differ from resnetLogits by ${difference}`);
      assert.deepEqual(predict(beside, testImages), logits);

      const trainer = new ShardTrainer(arch);
      trainer.setWeights(weights);
      const evaluation = await trainer.evaluate(testImages);
      trainer.dispose();
      const classes = arch.numClasses;
      const correct = [...testImages.y].filter(
        (label, i) => argmax(logits, i * classes, classes) === label,
      ).length;
      assert.equal(correct, evaluation.correct);
    } finally {
      model.dispose();
      beside.dispose();
    }
  });

  it('answers 404 for an unknown job, 409 for weights of a step the job has left, 400 for a malformed step', async () => {
    const status = async (url: string) => (await fetch(`${cluster.url}${url}`)).status;
    assert.equal(await status('/jobs/nosuchjob/model'), 404);
    assert.equal(await status(`/jobs/${job.id}/model/weights.bin?step=${STEPS - 1}`), 409);
    assert.equal(await status(`/jobs/${job.id}/model/weights.bin?step=two`), 400);
    assert.equal(await status(`/jobs/${job.id}/model/weights.bin`), 200);
  });

  it('predict prints an image’s top classes, from the coordinator and from a folder it saved', async () => {
    const folder = await makeTempDir('saved-model');
    try {
      const { test } = await openDatasetSplits(job.spec.dataset, dataRoot);
      const table = test as ImageTable;
      const image = path.join(folder, 'test-0.png');
      await sharp(Buffer.from(imageAt(table, 0)), {
        raw: { height: table.height, width: table.width, channels: 3 },
      })
        .png()
        .toFile(image);
      const first = { ...testImages, x: testImages.x.subarray(0, table.height * table.width * 3), count: 1 };
      const expected = await evalLogits(arch, weights, first);
      const expectedClass = job.spec.classNames[argmax(expected, 0, arch.numClasses)];

      const online = await runPredict([
        '--model',
        `${cluster.url}/jobs/${job.id}/model`,
        '--save',
        folder,
        image,
      ]);
      assert.equal(online.length, 5);
      assert.equal(online[0][1], expectedClass);
      const percents = online.map((row) => Number(row[2].replace('%', '')));
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => b - a),
      );

      const offline = await runPredict(['--model', folder, image]);
      assert.deepEqual(offline, online);
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it('evaluate counts a saved model’s top-1 hits on a dataset’s test split, every image or a fixed slice', async () => {
    const folder = await makeTempDir('evaluate');
    try {
      // The job's test images as an image folder, lossless (PNG), so its pixels are the job's; files
      // sort by table index within a class, which is the order evaluate's slices follow.
      const { test } = await openDatasetSplits(job.spec.dataset, dataRoot);
      const table = test as ImageTable;
      const inFolderOrder = [...table.labels.keys()].sort(
        (a, b) => table.labels[a] - table.labels[b] || a - b,
      );
      for (const i of inFolderOrder) {
        const classFolder = path.join(folder, 'data', 'test', table.classNames[table.labels[i]]);
        await fs.mkdir(classFolder, { recursive: true });
        await sharp(Buffer.from(imageAt(table, i)), {
          raw: { height: table.height, width: table.width, channels: 3 },
        })
          .png()
          .toFile(path.join(classFolder, `${String(i).padStart(3, '0')}.png`));
      }
      const logits = await evalLogits(arch, weights, testImages);
      const hit = (i: number) => argmax(logits, i * arch.numClasses, arch.numClasses) === testImages.y[i];
      const expectedHits = (every: number) =>
        inFolderOrder.filter((i, k) => k % every === 0 && hit(i)).length;
      // Not all right or all wrong, or the counts would say nothing about which images were counted.
      assert.ok(expectedHits(1) > 0 && expectedHits(1) < table.size, `${expectedHits(1)} hits`);

      const modelFolder = path.join(folder, 'model');
      await runPredict(['--model', `${cluster.url}/jobs/${job.id}/model`, '--save', modelFolder]);
      const evaluate = async (every: number) => {
        const { stdout } = await promisify(execFile)(process.execPath, [
          CLI,
          'evaluate',
          '--backend',
          'wasm',
          '--model',
          modelFolder,
          '--data',
          path.join(folder, 'data'),
          '--every',
          String(every),
        ]);
        const [hits, count] = /(\d+) of (\d+)/.exec(stdout)!.slice(1).map(Number);
        return { hits, count };
      };
      assert.deepEqual(await evaluate(1), { hits: expectedHits(1), count: table.size });
      assert.deepEqual(await evaluate(3), { hits: expectedHits(3), count: Math.ceil(table.size / 3) });
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it('runs an ImageNet-style folder job on the cluster and reports top-1 and top-5 accuracy', async () => {
    // The data path is under test here; ResNet-18 itself trains on these crops in imagenet-folder.spec.
    const request = {
      model: 'resnet20',
      dataset: { kind: 'imagenet-folder', path: 'imagenet', imageSize: 32 },
      batchSize: 4,
      shardsPerStep: 2,
      lr: 0.01,
    };
    const rejected = await cluster.request('POST', '/jobs', {
      ...request,
      augment: { padCrop: 4, flip: true },
    });
    assert.equal(rejected.status, 400);
    assert.match(rejected.body.message, /padCrop does not apply to imagenet-folder/);

    const submitted = await cluster.submit(request);
    const { spec } = submitted as { spec: TrainingJobSpec };
    assert.deepEqual(spec.classNames, WNIDS);
    assert.deepEqual([spec.trainSize, spec.testSize, spec.totalSteps], [6, 3, 1]);
    assert.deepEqual(spec.imageShape, [32, 32]);
    assert.deepEqual(spec.normalization, IMAGENET_NORMALIZATION);
    assert.deepEqual(spec.augment, { padCrop: 0, flip: true });
    const done = await cluster.waitForJob(submitted.id);
    assert.equal(done.status, 'completed', done.error);
    const { evals } = (await cluster.request('GET', `/jobs/${submitted.id}/metrics`)).body;
    assert.equal(evals.length, 1);
    assert.ok(Number.isFinite(evals[0].loss));
    // Three classes: every label is among the top five.
    assert.equal(evals[0].top5, 1);
    assert.ok(evals[0].accuracy >= 0 && evals[0].accuracy <= 1);
    const modelJson = (await cluster.request('GET', `/jobs/${submitted.id}/model`)).body;
    assert.equal(modelJson.userDefinedMetadata.evalCropFraction, IMAGENET_EVAL_CROP_FRACTION);
  });
});
