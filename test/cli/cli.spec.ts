import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { jobActionCommand } from '../../apps/cli/src/commands/job-action.command';
import { statusCommand } from '../../apps/cli/src/commands/status.command';
import { submitCommand } from '../../apps/cli/src/commands/submit.command';
import { workersCommand } from '../../apps/cli/src/commands/workers.command';
import { Redis } from 'ioredis';
import { RedisKeys } from '@resnet/protocol';
import { freePort } from '@resnet/local-cluster';
import { DashboardCluster } from '../support/dashboard-cluster';

const API_TOKEN = 'cli-spec-token';

describe('CLI commands against a running coordinator', function () {
  let cluster: DashboardCluster;
  let dir: string;

  before(async () => {
    // No workers: jobs stay at step 0, which is all these commands need.
    cluster = await DashboardCluster.start(0, API_TOKEN);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-spec-'));
  });
  after(async () => {
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a command in this process, with the coordinator's address and token, and returns what it printed. */
  async function run(command: Command, ...args: string[]): Promise<string> {
    const printed: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => printed.push(parts.join(' '));
    try {
      // Errors come back as rejections instead of exiting the process; their text is what the tests check.
      await command
        .exitOverride()
        .configureOutput({ writeErr: () => undefined })
        .parseAsync(['--url', cluster.url, '--token', API_TOKEN, ...args], { from: 'user' });
    } finally {
      console.log = log;
    }
    return printed.join('\n');
  }

  function submittedId(output: string): string {
    const id = /^submitted job (\w+):/m.exec(output)?.[1];
    assert.ok(id, `no job id in: ${output}`);
    return id;
  }

  it('submits from a file with flags overriding it, lists and shows the job', async () => {
    const file = path.join(dir, 'job.json');
    const dataset = { kind: 'synthetic', trainSize: 256, testSize: 64, imageSize: 8, numClasses: 4 };
    fs.writeFileSync(file, JSON.stringify({ name: 'from file', dataset, batchSize: 32, epochs: 5 }));
    const output = await run(submitCommand(), '--file', file, '--name', 'cli job', '--epochs', '1');
    const id = submittedId(output);
    assert.match(output, /: cli job, 8 steps; dashboard http:\/\/127\.0\.0\.1:\d+\/#job=\w+$/);

    const list = await run(statusCommand());
    assert.match(list, /^ID\s+NAME\s+STATUS\s+STEP/);
    assert.match(list, new RegExp(`^${id}\\s+cli job\\s+(queued|running)\\s+0/8`, 'm'));
    const detail = await run(statusCommand(), id);
    assert.match(detail, /^dataset\s+synthetic, 256 train \/ 64 test images of 8px, 4 classes$/m);
    assert.match(detail, /^batch\s+32 in 2 shards, peak lr 0\.1 \(cosine\)$/m);
    await run(jobActionCommand('cancel'), id); // frees the one job slot for the tests below
  });

  it('submits a local-SGD job and shows its local steps', async () => {
    const id = submittedId(await run(submitCommand(), '--epochs', '1', '--local-steps', '4'));
    const detail = await run(statusCommand(), id);
    assert.match(detail, /^batch\s+128 in 2 shards, 4 local steps per round, peak lr 0\.1 \(cosine\)$/m);
    assert.match(detail, /^precision\s+fp32$/m);
    await run(jobActionCommand('cancel'), id);
  });

  it('submits a bf16 job, and refuses a precision it does not know', async () => {
    const id = submittedId(await run(submitCommand(), '--epochs', '1', '--precision', 'bf16'));
    assert.match(await run(statusCommand(), id), /^precision\s+bf16$/m);
    await run(jobActionCommand('cancel'), id);
    await assert.rejects(run(submitCommand(), '--precision', 'fp16'), /Allowed choices are fp32, bf16/);
  });

  it('submits a job on summation services with its units and fold group', async () => {
    const id = submittedId(
      await run(
        submitCommand(),
        '--epochs',
        '1',
        '--aggregation',
        'services',
        '--units',
        '3',
        '--fold-group',
        '1',
      ),
    );
    const { spec } = (await (await fetch(`${cluster.url}/jobs/${id}`)).json()) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual([spec.aggregation, spec.units, spec.partitions, spec.foldGroup], ['services', 3, 3, 1]);
    await run(jobActionCommand('cancel'), id);
    await assert.rejects(
      run(submitCommand(), '--aggregation', 'somewhere'),
      /Allowed choices are coordinator, services/,
    );
  });

  it('pauses, resumes and cancels a job, and says why an action is refused', async () => {
    const id = submittedId(await run(submitCommand(), '--epochs', '1'));
    assert.match(
      await run(jobActionCommand('pause'), id),
      new RegExp(`^job ${id} \\(.*\\) is paused at step 0/`),
    );
    assert.match(await run(jobActionCommand('resume'), id), / is running at step 0\//);
    assert.match(await run(jobActionCommand('cancel'), id), / is cancelled at step 0\//);
    await assert.rejects(
      run(jobActionCommand('resume'), id),
      /job \w+ is cancelled; only paused or failed jobs can be resumed/,
    );
    await assert.rejects(run(jobActionCommand('cancel'), 'nosuchjob'), /no job with id nosuchjob/);
  });

  it('shows the server’s validation messages and rejects malformed flags', async () => {
    await assert.rejects(run(submitCommand(), '--batch-size', '0', '--lr', '-1'), (err: Error) => {
      assert.match(
        err.message,
        /the coordinator answered:\n {2}- batchSize must not be less than 1\n {2}- lr must be a positive number/,
      );
      return true;
    });
    await assert.rejects(run(submitCommand(), '--epochs', 'many'), /"many" is not a number/);
    await assert.rejects(
      run(submitCommand(), '--file', path.join(dir, 'missing.json')),
      /cannot read .*missing\.json/,
    );
  });

  it('follows a job until it ends and reports how it ended', async () => {
    const jobIds = async () =>
      ((await (await fetch(`${cluster.url}/jobs`)).json()) as Array<{ id: string }>).map((j) => j.id);
    const before = await jobIds();
    const following = run(submitCommand(), '--follow', '--epochs', '1');
    let followed: string | undefined;
    while (!(followed = (await jobIds()).find((id) => !before.includes(id))))
      await new Promise((r) => setTimeout(r, 50));
    await fetch(`${cluster.url}/jobs/${followed}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    const output = await following;
    assert.match(output, /^job \w+ cancelled at step 0\/\d+$/m);
    assert.equal(process.exitCode, 1, 'a job that did not complete fails the command');
    process.exitCode = 0;
  });

  it('releases a quarantined worker, forgetting its faults, and names an unknown one', async () => {
    const keys = new RedisKeys(cluster.prefix);
    const redis = new Redis(cluster.redis.url);
    try {
      await redis.sadd(keys.quarantine(), 'sick-1');
      await redis.zadd(keys.workerFaults('sick-1'), Date.now(), 'fault');
      assert.equal(
        await run(workersCommand(), 'release', 'sick-1'),
        'worker sick-1 released: it may take shards again',
      );
      assert.equal(await redis.sismember(keys.quarantine(), 'sick-1'), 0);
      assert.equal(await redis.exists(keys.workerFaults('sick-1')), 0);
      await assert.rejects(run(workersCommand(), 'release', 'nobody'), /no worker nobody is quarantined/);
    } finally {
      redis.disconnect();
    }
  });

  it('lists workers and explains a missing token and an unreachable coordinator', async () => {
    assert.match(await run(workersCommand()), /no workers have joined/);
    await assert.rejects(
      submitCommand().exitOverride().parseAsync(['--url', cluster.url], { from: 'user' }),
      /this coordinator requires an API token[^\n]*\n {2}- set --token or API_TOKEN/,
    );
    const closedPort = await freePort();
    await assert.rejects(
      workersCommand()
        .exitOverride()
        .parseAsync(['--url', `http://127.0.0.1:${closedPort}`], { from: 'user' }),
      new RegExp(
        `cannot reach the coordinator at http://127\\.0\\.0\\.1:${closedPort} \\(.*ECONNREFUSED.*\\): is it running\\? Set --url or COORDINATOR_URL`,
      ),
    );
  });
});
