import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');

describe('the resnet-cluster bin', function () {
  let clone: string;

  before(async () => {
    clone = await fs.mkdtemp(path.join(os.tmpdir(), 'resnet-cluster-clone-'));
    await execFileAsync('git', ['clone', '--quiet', ROOT, clone]);
    // What `npm install` leaves there: the dependencies, and no build.
    await fs.symlink(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  });
  after(async () => {
    if (clone) await fs.rm(clone, { recursive: true, force: true });
  });

  it('runs `npx resnet-cluster --help` in a fresh clone, building it first', async () => {
    const first = await execFileAsync('npx', ['--no-install', 'resnet-cluster', '--help'], { cwd: clone });
    assert.match(first.stderr, /no build yet; running `npm run build` first/);
    assert.match(first.stdout, /^Usage: resnet-cluster /m);
    for (const command of ['up', 'submit', 'status', 'predict', 'evaluate'])
      assert.match(first.stdout, new RegExp(`^  ${command} `, 'm'));

    const submit = await execFileAsync('npx', ['--no-install', 'resnet-cluster', 'submit', '--help'], {
      cwd: clone,
    });
    assert.doesNotMatch(submit.stderr, /no build yet/, 'built once');
    // Its examples name the dataset that exists, under the command that runs them.
    assert.match(submit.stdout, /npx resnet-cluster submit --data cifar10-images\.tar\.gz/);
    assert.doesNotMatch(submit.stdout, /--data cifar10 /);

    const up = await execFileAsync('npx', ['--no-install', 'resnet-cluster', 'up', '--help'], { cwd: clone });
    const workers = up.stdout.split('\n').find((line) => line.includes('--workers'));
    assert.equal(workers?.match(/\(default:/g)?.length, 1, `one default: ${workers}`);
  });
});
