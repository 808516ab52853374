import * as assert from 'node:assert/strict';
import { TestCluster, useTestCluster } from '../support/test-cluster';

const TOKEN = 'test-token-3c5e';
const JOB = {
  dataset: { kind: 'synthetic', trainSize: 32, testSize: 16, imageSize: 8, numClasses: 2 },
  batchSize: 16,
  maxSteps: 1,
};

describe('access control with API_TOKEN', function () {
  let cluster!: TestCluster;
  useTestCluster({ workers: 1, env: { API_TOKEN: TOKEN } }, (started) => (cluster = started));

  const post = (path: string, body: unknown, authorization?: string) =>
    fetch(`${cluster.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });

  it('refuses mutating requests without the right bearer token, naming the fix', async () => {
    for (const auth of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await post('/jobs', JOB, auth);
      assert.equal(res.status, 401, `authorization ${auth}`);
      assert.match((await res.json()).message, /Authorization: Bearer <API_TOKEN>/);
    }
    assert.equal((await post('/jobs/x/cancel', {})).status, 401);
    assert.equal((await post('/queues/api/queues/shards/clean/completed', {})).status, 401);
  });

  it('accepts the token, keeps reads open, and never echoes the token', async () => {
    const res = await post('/jobs', JOB, `Bearer ${TOKEN}`);
    assert.equal(res.status, 201);
    const job = await res.json();
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.status, 'completed');
    for (const path of ['/jobs', `/jobs/${job.id}`, `/jobs/${job.id}/metrics`, '/workers']) {
      const read = await fetch(`${cluster.url}${path}`);
      assert.equal(read.status, 200);
      assert.ok(!(await read.text()).includes(TOKEN), `${path} leaks the token`);
    }
  });
});
