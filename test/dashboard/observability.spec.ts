import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { SHARD_QUEUE, shardQueueFor } from '@resnet/protocol';
import { DashboardCluster } from '../support/dashboard-cluster';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABELS = `\\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\]|\\\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\]|\\\\.)*")*\\}`;
// prom-client writes NaN as "Nan" (the event-loop lag before its first sample); Prometheus reads
// NaN in any case, as Go's ParseFloat does.
const VALUE = '(?:[-+]?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|NaN|Nan|[-+]Inf)';
const COMMENT_LINE = new RegExp(
  `^# (?:HELP ${NAME} .*|TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped))$`,
);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:${LABELS})? ${VALUE}(?: -?\\d+)?$`);

/** An entry of Express's router stack; `route` is set for routes, not for middleware. */
interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Checks every line against the Prometheus text format, and that each sample belongs to a declared family. */
function assertPrometheusText(text: string): void {
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      assert.match(line, COMMENT_LINE);
      if (line.startsWith('# TYPE ')) declared.add(line.split(' ')[2]);
      continue;
    }
    const name = SAMPLE_LINE.exec(line)?.[1];
    assert.ok(name, `not a Prometheus sample line: ${line}`);
    const family = name.replace(/_(bucket|sum|count|total|created)$/, '');
    assert.ok(declared.has(name) || declared.has(family), `sample ${name} has no # TYPE line`);
  }
}

/** Reads a Server-Sent Events stream until `until` matches what arrived, or gives up. */
async function readEvents(url: string, until: RegExp, timeoutMs = 5000): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let received = '';
  try {
    const res = await fetch(url, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += decoder.decode(chunk, { stream: true });
      if (until.test(received)) return received;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  assert.fail(`no ${until} in the event stream within ${timeoutMs} ms; got: ${received}`);
}

describe('observability endpoints', function () {
  let cluster: DashboardCluster;

  before(async () => {
    cluster = await DashboardCluster.start(0);
  });
  after(async () => cluster?.stop());

  it('serves /metrics in the Prometheus text format', async () => {
    const { status, text, contentType } = await cluster.get('/metrics');
    assert.equal(status, 200);
    assert.match(contentType ?? '', /^text\/plain;.* version=0\.0\.4/);
    assertPrometheusText(text);
    for (const family of [
      'resnet_step_duration_seconds',
      'resnet_images_per_second',
      'resnet_gradient_bytes_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'));
    }
    assert.match(text, /^resnet_shard_queue_jobs\{state="waiting",precision="fp32"\} 0$/m);
    assert.match(text, /^resnet_shard_queue_jobs\{state="failed",precision="fp32"\} 0$/m);
    assert.match(text, /^resnet_shard_queue_jobs\{state="waiting",precision="bf16"\} 0$/m);
    assert.match(text, /^resnet_workers\{state="alive"\} 0$/m);
  });

  it('lists every route in the OpenAPI document at /docs-json', async () => {
    const doc = JSON.parse((await cluster.get('/docs-json')).text);
    const express: { router: { stack: RouterLayer[] } } = cluster.app.getHttpAdapter().getInstance();
    const routes = express.router.stack
      // Controllers' routes: one method each (middleware for all methods and Swagger UI's own files aside).
      .flatMap(({ route }) => (route && !route.path.startsWith('/docs') ? [route] : []))
      .filter((route) => Object.keys(route.methods).length === 1)
      .map((route) => [Object.keys(route.methods)[0], route.path]);
    assert.ok(routes.length >= 14, `only ${routes.length} routes found`);
    for (const [method, route] of routes) {
      const documented = route.replace(/:(\w+)/g, '{$1}');
      assert.ok(
        doc.paths[documented]?.[method],
        `${method.toUpperCase()} ${route} is missing from /docs-json`,
      );
    }
    for (const schema of [
      'CreateJobDto',
      'DatasetDto',
      'JobViewDto',
      'JobMetricsDto',
      'StepMetricsDto',
      'WorkerViewDto',
    ]) {
      assert.ok(doc.components.schemas[schema], `schema ${schema} is missing`);
    }
    assert.deepEqual(doc.components.schemas.JobViewDto.properties.status.enum, [
      'queued',
      'running',
      'paused',
      'completed',
      'failed',
      'cancelled',
    ]);
    assert.equal((await cluster.get('/docs')).status, 200);
  });

  it('serves bull-board for the shard queues at /queues', async () => {
    const page = await fetch(`${cluster.url}/queues`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /font-src 'self'/);
    // Its fonts come from this coordinator, not from the internet.
    const html = await page.text();
    assert.doesNotMatch(html, /googleapis/);
    const stylesheets = [...html.matchAll(/<link href="(\/vendor\/[^"]+\.css)"/g)].map((m) => m[1]);
    assert.equal(stylesheets.length, 5);
    for (const sheet of stylesheets) {
      const css = await cluster.get(sheet);
      assert.equal(css.status, 200, sheet);
      const font = /url\(\.\/(files\/[^)]+\.woff2)\)/.exec(css.text)![1];
      assert.equal((await fetch(`${cluster.url}${path.posix.dirname(sheet)}/${font}`)).status, 200, font);
    }
    const api = JSON.parse((await cluster.get('/queues/api/queues')).text);
    assert.deepEqual(
      api.queues.map((q: { name: string; readOnlyMode: boolean }) => [q.name, q.readOnlyMode]),
      [
        [SHARD_QUEUE, true],
        [shardQueueFor('bf16'), true],
      ],
    );
  });

  it('streams job and worker snapshots on /events and rejects a malformed job id', async () => {
    const stream = await readEvents(
      `${cluster.url}/events`,
      /event: jobs[\s\S]*event: workers|event: workers[\s\S]*event: jobs/,
    );
    assert.match(stream, /event: jobs\nid: \d+\ndata: \[\]/);
    assert.match(stream, /event: workers\nid: \d+\ndata: \[\]/);
    const bad = await cluster.get('/events?job=..%2Fetc');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /job must be a job id/);
  });

  it('reports Redis down on /health with 503 while liveness and the other views stay up, then recovers', async () => {
    const up = await cluster.get('/health');
    assert.equal(up.status, 200);
    assert.equal(JSON.parse(up.text).details.redis.status, 'up');

    await cluster.redis.stop();
    try {
      const down = await cluster.get('/health');
      assert.equal(down.status, 503);
      const body = JSON.parse(down.text);
      assert.equal(body.status, 'error');
      assert.equal(body.error.redis.status, 'down');
      assert.match(body.error.redis.message, /Redis/);
      assert.equal((await cluster.get('/health/ready')).status, 503);
      assert.equal((await cluster.get('/health/live')).status, 200);
      // Views that read Redis answer at once instead of queueing behind the reconnect.
      const metrics = await cluster.get('/metrics');
      assert.equal(metrics.status, 200);
      assert.doesNotMatch(metrics.text, /^resnet_shard_queue_jobs\{/m);
      await readEvents(`${cluster.url}/events`, /event: problem\nid: \d+\ndata: \{"message":"[^"]*Redis/);
    } finally {
      await cluster.redis.launch();
    }
    const deadline = Date.now() + 15_000;
    while ((await cluster.get('/health')).status !== 200) {
      assert.ok(Date.now() < deadline, 'readiness did not recover within 15 s of Redis coming back');
      await new Promise((r) => setTimeout(r, 100));
    }
    await cluster.settleAfterRedisRestart();
  });
});
