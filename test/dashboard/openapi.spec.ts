import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DashboardCluster } from '../support/dashboard-cluster';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'node_modules/.bin');

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

/** Reads that cannot be refused: nothing to put in a 4xx response. */
const NO_4XX = ['/jobs', '/workers', '/metrics', '/health', '/health/live', '/health/ready'].map(
  (p) => `#/paths/${p.replaceAll('/', '~1')}/get/responses`,
);

/**
 * Checks the types openapi-typescript generates from the document against what the CLI's
 * coordinator client expects of each answer and sends as a job, with tsc.
 */
function clientCheck(typesModule: string): string {
  return `
import type { paths } from '${typesModule}';
import type { CoordinatorClient } from '${ROOT}/apps/cli/src/coordinator-client';
import { upJobRequest } from '${ROOT}/apps/cli/src/commands/up.command';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Answer<Op> = Op extends { responses: infer R }
  ? R extends { 201: infer A } ? Json<A> : R extends { 200: infer A } ? Json<A> : never
  : never;
type RequestOf<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type Expects<K extends keyof CoordinatorClient> = CoordinatorClient[K] extends (...args: never[]) => Promise<infer T> ? T : never;
// The job's spec is documented as a free-form object: the CLI's type for it is its own.
type WithoutSpec<T> = T extends (infer E)[] ? Omit<E, 'spec'>[] : Omit<T, 'spec'>;
const served = <T>(value: T): T => value;

served<WithoutSpec<Expects<'submit'>>>(null! as Answer<paths['/jobs']['post']>);
served<WithoutSpec<Expects<'jobs'>>>(null! as Answer<paths['/jobs']['get']>);
served<WithoutSpec<Expects<'job'>>>(null! as Answer<paths['/jobs/{id}']['get']>);
served<Expects<'metrics'>>(null! as Answer<paths['/jobs/{id}/metrics']['get']>);
served<WithoutSpec<Expects<'act'>>>(null! as Answer<paths['/jobs/{id}/cancel']['post']>);
served<WithoutSpec<Expects<'act'>>>(null! as Answer<paths['/jobs/{id}/pause']['post']>);
served<WithoutSpec<Expects<'act'>>>(null! as Answer<paths['/jobs/{id}/resume']['post']>);
served<Expects<'workers'>>(null! as Answer<paths['/workers']['get']>);
served<Expects<'releaseWorker'>>(null! as Answer<paths['/workers/{id}/release']['post']>);
served<RequestOf<paths['/jobs']['post']>>(upJobRequest({ epochs: '1', workers: '2' }));
served<RequestOf<paths['/jobs']['post']>>(upJobRequest({ epochs: '1', workers: '2', data: 'cifar10-images.tar.gz' }));
`;
}

describe('the OpenAPI document', function () {
  let cluster: DashboardCluster;
  let work: string;
  let docFile: string;

  before(async () => {
    cluster = await DashboardCluster.start(0, 'openapi-secret');
    // Inside the repository, so that tsc finds its node_modules and path mappings.
    await fs.mkdir(path.join(ROOT, '.cache'), { recursive: true });
    work = await fs.mkdtemp(path.join(ROOT, '.cache/openapi-'));
    docFile = path.join(work, 'docs.json');
    await fs.writeFile(docFile, (await cluster.get('/docs-json')).text);
  });
  after(async () => {
    await cluster?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it("passes @redocly/cli's recommended rules with no errors", async () => {
    const { stdout } = await execFileAsync(
      path.join(BIN, 'redocly'),
      ['lint', docFile, '--extends', 'recommended', '--format', 'json'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' })); // exits 1 on errors
    const report = JSON.parse(stdout) as { totals: { errors: number }; problems: LintProblem[] };
    const errors = report.problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors, [], JSON.stringify(errors, null, 2));
    // Warnings only where the coordinator never answers a 4xx.
    const warned = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`).sort();
    assert.deepEqual(warned, NO_4XX.map((pointer) => `operation-4xx-response ${pointer}`).sort());
  });

  it('declares the bearer token on every request that changes something, and the server', async () => {
    const doc = JSON.parse(await fs.readFile(docFile, 'utf8'));
    assert.deepEqual(doc.servers, [{ url: '/', description: 'this coordinator' }]);
    assert.equal(doc.components.securitySchemes.apiToken.scheme, 'bearer');
    for (const [route, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(
        operations as Record<string, { security: unknown[]; responses: object }>,
      )) {
        if (method === 'get') {
          assert.deepEqual(op.security, [], `GET ${route} needs no token`);
        } else {
          assert.deepEqual(op.security, [{ apiToken: [] }], `${method} ${route}`);
          assert.ok(
            '401' in op.responses && '400' in op.responses && '413' in op.responses,
            `${method} ${route}`,
          );
        }
      }
    }
    const refused = await fetch(`${cluster.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer openapi-secret' },
      body: JSON.stringify({ name: 'x'.repeat(70_000), dataset: { kind: 'synthetic' } }),
    });
    assert.equal(refused.status, 413, 'the documented body limit holds');
  });

  it("generates a client with openapi-typescript that type-checks against the CLI's calls", async () => {
    const types = path.join(work, 'coordinator-api.ts');
    // Without the flag, openapi-typescript makes every field with a default required, which is right
    // for answers but not for requests: POST /jobs fills in what a request leaves out.
    await execFileAsync(path.join(BIN, 'openapi-typescript'), [
      docFile,
      '-o',
      types,
      '--default-non-nullable',
      'false',
    ]);
    await fs.writeFile(path.join(work, 'check.ts'), clientCheck('./coordinator-api'));
    await fs.writeFile(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true },
        files: ['check.ts'],
      }),
    );
    await execFileAsync(path.join(BIN, 'tsc'), ['-p', work]).catch((err: { stdout?: string }) => {
      assert.fail(`the CLI does not type-check against the generated client:\n${err.stdout}`);
    });
  });
});
