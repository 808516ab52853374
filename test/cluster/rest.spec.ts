import * as assert from 'node:assert/strict';
import { TestCluster, useTestCluster } from '../support/test-cluster';

const SMALL = {
  dataset: { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 2 },
  batchSize: 16,
  shardsPerStep: 2,
  epochs: 1,
};

/** A JSON object nested `depth` levels deep, as text (JSON.stringify would recurse that deep too). */
function deeplyNested(depth: number): string {
  return '{"dataset":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('REST API', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 1 }, (started) => (cluster = started));

  it('runs a submitted job to completed and serves it, its metrics and the workers', async () => {
    const job = await cluster.submit(SMALL);
    assert.match(job.id, /^[0-9a-f]{8}$/);
    assert.equal(job.totalSteps, 4);
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.progress, 1);
    const list = await cluster.request('GET', '/jobs');
    assert.ok(list.body.some((j: any) => j.id === job.id));
    const metrics = await cluster.request('GET', `/jobs/${job.id}/metrics`);
    assert.equal(metrics.body.steps.length, 4);
    // Every step reports its loss, accuracy, rate and timings (phase timings may be added on top).
    for (const key of [
      'accuracy',
      'at',
      'epoch',
      'imagesPerSecond',
      'loss',
      'lr',
      'slowestShardMs',
      'step',
      'stepMs',
      'waitMs',
    ]) {
      assert.equal(typeof metrics.body.steps[0][key], 'number', `step metric ${key}`);
    }
    const workers = await cluster.request('GET', '/workers');
    assert.equal(workers.body.length, 1);
    assert.equal(workers.body[0].backend, 'wasm');
    assert.deepEqual(workers.body[0].precisions, ['fp32'], 'a wasm worker computes fp32 only');
    assert.equal(done.spec.precision, 'fp32', 'the default precision');
    assert.equal(workers.body[0].alive, true);
    assert.ok(workers.body[0].imagesPerSecond > 0);
  });

  const malformed: Array<[string, unknown, RegExp]> = [
    ['a missing dataset', { batchSize: 16 }, /dataset/],
    ['a negative batch size', { ...SMALL, batchSize: -4 }, /batchSize must not be less than 1/],
    ['a learning rate of 0', { ...SMALL, lr: 0 }, /lr must be a positive number/],
    ['an unknown field', { ...SMALL, learningRate: 0.1 }, /property learningRate should not exist/],
    ['an unknown model', { ...SMALL, model: 'resnet7' }, /model must be one of the following values/],
    [
      'an unknown precision',
      { ...SMALL, precision: 'fp16' },
      /precision must be one of the following values: fp32, bf16/,
    ],
    [
      'a dataset path outside the data root',
      { ...SMALL, dataset: { kind: 'folder', path: '../../etc' } },
      /leaves the data root/,
    ],
    ['a missing dataset folder', { ...SMALL, dataset: { kind: 'folder', path: 'nope' } }, /does not exist/],
    [
      'more shards than samples',
      { ...SMALL, shardsPerStep: 32 },
      /32 shards per step cannot split a batch of 16/,
    ],
    ['a string where a number belongs', { ...SMALL, epochs: 'many' }, /epochs must be a number/],
    ['invalid JSON', '{"dataset":', /JSON/i],
    [
      'a body nested 5,000 levels deep',
      deeplyNested(5000),
      /nests objects or arrays more than 32 levels deep/,
    ],
    [
      'a dataset path with a NUL byte',
      { ...SMALL, dataset: { kind: 'folder', path: 'cifar10\u0000.tar.gz' } },
      /dataset.path must not contain NUL or other control characters/,
    ],
    [
      'a dataset path with a control character',
      { ...SMALL, dataset: { kind: 'imagenet-folder', path: 'images\nval' } },
      /dataset.path must not contain NUL or other control characters/,
    ],
  ];
  for (const [what, body, message] of malformed) {
    it(`answers 400 naming the problem for ${what}`, async () => {
      const res = await cluster.request('POST', '/jobs', body);
      assert.equal(res.status, 400);
      const text = JSON.stringify(res.body.message);
      assert.match(text, message);
    });
  }

  it('answers 400 for a body nested 5,000 levels deep on POST /jobs/restore', async () => {
    const res = await cluster.request('POST', '/jobs/restore', deeplyNested(5000));
    assert.equal(res.status, 400);
    assert.match(res.body.message, /nests objects or arrays more than 32 levels deep/);
  });

  it('refuses request bodies over 64 kB', async () => {
    const res = await cluster.request('POST', '/jobs', { ...SMALL, name: 'x'.repeat(70_000) });
    assert.equal(res.status, 413);
  });

  it('answers 404 for unknown job ids', async () => {
    for (const path of ['/jobs/nope', '/jobs/nope/metrics']) {
      const res = await cluster.request('GET', path);
      assert.equal(res.status, 404);
      assert.match(res.body.message, /no job with id nope/);
    }
    assert.equal((await cluster.request('POST', '/jobs/nope/cancel')).status, 404);
  });

  it('cancels a running job', async () => {
    const job = await cluster.submit({ ...SMALL, epochs: 50 });
    await cluster.waitForJob(job.id, ['running']);
    const res = await cluster.request('POST', `/jobs/${job.id}/cancel`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    const again = await cluster.request('POST', `/jobs/${job.id}/cancel`);
    assert.equal(again.status, 409);
  });
});
