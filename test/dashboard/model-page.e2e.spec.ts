import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Page } from 'playwright-core';
import sharp from 'sharp';
import { initComputeBackend } from '@resnet/engine';
import { ExportedModelMetadata } from '@resnet/job';
import { loadLayersModel, saveLayersModel } from '../../apps/cli/src/layers-model-store';
import { CHROMIUM, requireDependency, SHARED_CIFAR } from '../support/optional-dependency';
import { SHORT_JOB } from '../support/short-job';
import { TestBrowser } from '../support/test-browser';
import { TestCluster } from '../support/test-cluster';

/** SHORT_JOB's 32 test images of 4 classes, trained a few more steps. */
const JOB = { ...SHORT_JOB, name: 'model page', maxSteps: 8 };
/** What GET …/samples answers (SampleImagesDto). */
interface Samples {
  readonly classNames: string[];
  readonly images: { index: number; label: number; png: string }[];
}

/** The class probabilities Node's TF.js gives a sample PNG, prepared as the job evaluated (8×8, no crop). */
async function nodeProbabilities(model: tf.LayersModel, png: string): Promise<Float32Array> {
  const { normalization } = model.getUserDefinedMetadata() as ExportedModelMetadata;
  const pixels = await sharp(Buffer.from(png.replace(/^data:image\/png;base64,/, ''), 'base64'))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = pixels.info;
  const input = Float32Array.from(
    pixels.data,
    (v, i) => (v / 255 - normalization.mean[i % 3]) / normalization.std[i % 3],
  );
  return tf.tidy(
    () =>
      tf
        .softmax(model.predict(tf.tensor4d(input, [1, height, width, 3])) as tf.Tensor2D)
        .dataSync() as Float32Array,
  );
}

/** The page's sample tiles: predicted class, its probability as shown, and the true class. */
function tiles(page: Page): Promise<{ predicted: string; shown: number; label: string }[]> {
  return page.$$eval('#samples figure', (figures) =>
    figures.map((f) => ({
      predicted: (f as HTMLElement).dataset.predicted ?? '',
      shown: Number(/([\d.]+)%/.exec(f.querySelector('strong')?.textContent ?? '')?.[1]) / 100,
      label: (f as HTMLElement).dataset.label ?? '',
    })),
  );
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Checks that the page's sample tiles show what TF.js in Node predicts for the same test images
 * (`samplesUrl`), and the summary the right count; returns how many the model got right.
 */
async function checkSampleTiles(page: Page, model: tf.LayersModel, samplesUrl: string): Promise<number> {
  await page.waitForSelector('#model-status[data-state="live"]');
  await page.waitForFunction(() => document.querySelectorAll('#samples figure').length === 8);
  const shown = await tiles(page);
  const expected = (await (await fetch(samplesUrl)).json()) as Samples;
  assert.equal(shown.length, expected.images.length);
  let right = 0;
  for (const [i, sample] of expected.images.entries()) {
    const probabilities = await nodeProbabilities(model, sample.png);
    const best = argmax(probabilities);
    assert.equal(shown[i].label, expected.classNames[sample.label]);
    assert.equal(shown[i].predicted, expected.classNames[best], `test image ${sample.index}`);
    // Shown with two decimals of a percent; the browser's backend adds in another order.
    assert.ok(
      Math.abs(shown[i].shown - probabilities[best]) <= 1e-4 + 5e-5,
      `${shown[i].shown} vs ${probabilities[best]}`,
    );
    if (best === sample.label) right++;
  }
  assert.equal(
    await page.textContent('#samples-summary'),
    `${right} of ${expected.images.length} right (test images spread over the test split)`,
  );
  return right;
}

describe('a trained model in the browser: /jobs/:id/model/view and /models/<name>', function () {
  let cluster: TestCluster;
  let modelsDir: string;
  let browser: TestBrowser;
  let page: Page;
  let jobId: string;
  let model: tf.LayersModel;
  let samples: Samples;

  before(async function () {
    requireDependency(this, CHROMIUM);
    await initComputeBackend('wasm');
    modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipped-models-'));
    cluster = await TestCluster.start({ workers: 1, env: { MODELS_DIR: modelsDir } });
    const done = await cluster.waitForJob((await cluster.submit(JOB)).id);
    assert.equal(done.status, 'completed', done.error);
    jobId = done.id;
    model = await loadLayersModel(`${cluster.url}/jobs/${jobId}/model`);
    // The same job's model, shipped: as train:cifar saves one.
    await saveLayersModel(model, path.join(modelsDir, 'tiny-resnet20'));
    samples = (await (await fetch(`${cluster.url}/jobs/${jobId}/samples?count=6`)).json()) as Samples;
    browser = await TestBrowser.launch({ width: 1280, height: 900 });
    page = browser.page;
  });

  after(async () => {
    model?.dispose();
    await browser?.close();
    await cluster?.stop();
    if (modelsDir) fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('serves test images of the job’s dataset, spread over the split', async () => {
    assert.deepEqual(
      samples.images.map((s) => s.index),
      [0, 5, 10, 16, 21, 26],
    );
    assert.equal(samples.classNames.length, 4);
    for (const s of samples.images) assert.match(s.png, /^data:image\/png;base64,/);
    const tooMany = await fetch(`${cluster.url}/jobs/${jobId}/samples?count=65`);
    assert.equal(tooMany.status, 400);
  });

  it('runs the job’s model on the test images in the browser, as TF.js in Node does', async () => {
    await page.goto(`${cluster.url}/jobs/${jobId}/model/view`);
    await checkSampleTiles(page, model, `${cluster.url}/jobs/${jobId}/samples`);
    assert.match((await page.textContent('#about')) ?? '', /model page/);
  });

  it('classifies a picked image with its top 5 classes', async () => {
    const sample = samples.images[2];
    const file = path.join(browser.scratchDir, 'picked.png');
    fs.writeFileSync(file, Buffer.from(sample.png.replace(/^data:image\/png;base64,/, ''), 'base64'));
    await page.setInputFiles('#image-file', file);
    await page.waitForSelector('#prediction:not([hidden])');
    const rows = await page.$$eval('#top5 tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    // Four classes: the top 5 lists all four, most probable first.
    const probabilities = await nodeProbabilities(model, sample.png);
    const order = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]);
    assert.deepEqual(
      rows.map((r) => r[1]),
      order.map((i) => samples.classNames[i]),
    );
    const total = rows.reduce((sum, r) => sum + Number(r[2].replace('%', '')), 0);
    assert.ok(Math.abs(total - 100) < 0.03, `the probabilities add up to ${total}%`);
  });

  it('runs a shipped model from MODELS_DIR at /models/<name>, with its training set’s test images', async () => {
    await page.goto(`${cluster.url}/models/tiny-resnet20`);
    await page.waitForSelector('#model-status[data-state="live"]');
    await page.waitForFunction(() => document.querySelectorAll('#samples figure').length === 8);
    const shipped = await tiles(page);
    await page.goto(`${cluster.url}/jobs/${jobId}/model/view`);
    await page.waitForFunction(() => document.querySelectorAll('#samples figure').length === 8);
    assert.deepEqual(shipped, await tiles(page));
  });

  it('answers 404 for a model that is not shipped, and for names that would leave MODELS_DIR', async () => {
    for (const name of ['no-such-model', '..%2F..%2Fetc', '.hidden']) {
      const res = await fetch(`${cluster.url}/models/${name}`);
      assert.equal(res.status, 404, name);
    }
    assert.equal((await fetch(`${cluster.url}/jobs/no-such-job/model/view`)).status, 404);
  });
});

describe('the shipped ResNet-20 in the browser: /models/resnet20-cifar10', function () {
  /** The repository's models/, as `npm start` serves it (MODELS_DIR's default). */
  const MODELS = path.resolve(__dirname, '../../../models');
  let cluster: TestCluster;
  let browser: TestBrowser;
  let model: tf.LayersModel;

  before(async function () {
    requireDependency(this, CHROMIUM);
    requireDependency(this, SHARED_CIFAR);
    await initComputeBackend('wasm');
    model = await loadLayersModel(path.join(MODELS, 'resnet20-cifar10'));
    cluster = await TestCluster.start({
      workers: 0,
      dataRoot: SHARED_CIFAR.root,
      env: { MODELS_DIR: MODELS },
    });
    browser = await TestBrowser.launch({ width: 1280, height: 900 });
  });

  after(async () => {
    model?.dispose();
    await browser?.close();
    await cluster?.stop();
  });

  it('classifies real CIFAR-10 test images in the browser as TF.js in Node does, most of them right', async () => {
    await browser.page.goto(`${cluster.url}/models/resnet20-cifar10`);
    const right = await checkSampleTiles(
      browser.page,
      model,
      `${cluster.url}/models/resnet20-cifar10/samples`,
    );
    // Eight fixed test images; the model gets about nine in ten of all test images right.
    assert.ok(right >= 6, `${right} of 8 right`);
    const about = (await browser.page.textContent('#about')) ?? '';
    assert.match(about, /resnet20/);
    assert.match(about, /airplane, automobile, bird/);
  });
});
