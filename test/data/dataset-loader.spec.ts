import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import os from 'node:os';
import {
  DatasetError,
  DatasetProgress,
  detectDatasetLayout,
  imageAt,
  openDataset,
  resolveCacheDir,
} from '@resnet/data';
import { gradientPixels, makeTempDir, removeDir, writeCifarBinary, writeImageFolder } from './fixtures';

const execFileAsync = promisify(execFile);

describe('data/openDataset', () => {
  let work: string;
  let cacheDir: string;

  beforeEach(async () => {
    work = await makeTempDir('loader');
    cacheDir = path.join(work, 'cache');
  });
  afterEach(() => removeDir(work));

  it('detects CIFAR-10 binary in the folder itself or in cifar-10-batches-bin/', async () => {
    await writeCifarBinary(path.join(work, 'cifar/cifar-10-batches-bin'), 2);
    assert.equal(await detectDatasetLayout(path.join(work, 'cifar')), 'cifar-binary');
    const train = await openDataset(path.join(work, 'cifar'), 'train', { cacheDir });
    assert.equal(train.size, 10);
    const test = await openDataset(path.join(work, 'cifar/cifar-10-batches-bin'), 'test', { cacheDir });
    assert.equal(test.size, 2);
    await assert.rejects(openDataset(path.join(work, 'cifar'), 'val'), /only 'train' and 'test' splits/);
  });

  it('detects an image folder', async () => {
    await writeImageFolder(path.join(work, 'images'));
    assert.equal(await detectDatasetLayout(path.join(work, 'images')), 'image-folder');
    const table = await openDataset(path.join(work, 'images'), 'test', { cacheDir });
    assert.deepEqual(table.classNames, ['cat', 'dog']);
    assert.equal(table.size, 2);
  });

  it('opens a .tar.gz with a top-level folder, extracting it only once', async () => {
    await writeImageFolder(path.join(work, 'src/tiny'));
    const archive = path.join(work, 'tiny.tar.gz');
    await execFileAsync('tar', ['-czf', archive, '-C', path.join(work, 'src'), 'tiny']);
    const table = await openDataset(archive, 'train', { cacheDir });
    assert.equal(table.size, 5);
    assert.deepEqual(imageAt(table, 0), new Uint8Array(gradientPixels(4, 4, 10)));

    const extracted = (await fs.readdir(cacheDir)).filter((name) => name.startsWith('extracted-'));
    assert.equal(extracted.length, 1);
    const marker = path.join(cacheDir, extracted[0], 'tiny/marker');
    await fs.writeFile(marker, 'kept');
    await openDataset(archive, 'test', { cacheDir });
    assert.equal(await fs.readFile(marker, 'utf8'), 'kept', 'the earlier extraction is reused');
  });

  it('reports extraction and each decoded image of an archive, and nothing once the table is cached', async () => {
    await writeImageFolder(path.join(work, 'src/tiny'));
    const archive = path.join(work, 'tiny.tar.gz');
    await execFileAsync('tar', ['-czf', archive, '-C', path.join(work, 'src'), 'tiny']);
    const seen: DatasetProgress[] = [];
    const table = await openDataset(archive, 'train', { cacheDir, onProgress: (p) => seen.push(p) });
    assert.deepEqual(seen[0], { split: 'train', phase: 'extracting', done: 0, total: 0 });
    const decoding = seen.slice(1);
    assert.ok(decoding.every((p) => p.phase === 'decoding' && p.split === 'train' && p.total === table.size));
    assert.deepEqual(
      decoding.map((p) => p.done),
      Array.from({ length: table.size + 1 }, (_, i) => i),
    );

    seen.length = 0;
    await openDataset(archive, 'train', { cacheDir, onProgress: (p) => seen.push(p) });
    assert.deepEqual(seen, []);
  });

  it('shares extractions and tables between copies of an archive: the cache is keyed by content', async () => {
    await writeImageFolder(path.join(work, 'src/tiny'));
    const archive = path.join(work, 'clone-a/tiny.tar.gz');
    await fs.mkdir(path.dirname(archive));
    await execFileAsync('tar', ['-czf', archive, '-C', path.join(work, 'src'), 'tiny']);
    await openDataset(archive, 'train', { cacheDir });
    const copy = path.join(work, 'clone-b/tiny.tar.gz');
    await fs.mkdir(path.dirname(copy));
    await fs.copyFile(archive, copy); // a new path and a new mtime
    const before = await fs.readdir(cacheDir);
    const decoded: DatasetProgress[] = [];
    await openDataset(copy, 'train', {
      cacheDir,
      onProgress: (p) => p.phase === 'decoding' && decoded.push(p),
    });
    assert.deepEqual(await fs.readdir(cacheDir), before);
    assert.deepEqual(decoded, [], 'the table decoded for the first copy is reused');

    await fs.appendFile(copy, Buffer.alloc(512)); // other bytes: a different archive
    await openDataset(copy, 'train', { cacheDir });
    const extracted = (await fs.readdir(cacheDir)).filter((name) => name.startsWith('extracted-'));
    assert.equal(extracted.length, 2);
  });

  it('keeps its cache in DATA_CACHE_DIR, else under the user cache folder', () => {
    assert.equal(resolveCacheDir(undefined, { DATA_CACHE_DIR: '/srv/cache' }), '/srv/cache');
    assert.equal(
      resolveCacheDir(undefined, { XDG_CACHE_HOME: '/home/u/.xdg' }),
      '/home/u/.xdg/resnet-cluster',
    );
    assert.equal(resolveCacheDir(undefined, {}), path.join(os.homedir(), '.cache/resnet-cluster'));
    assert.equal(resolveCacheDir('/explicit', { DATA_CACHE_DIR: '/srv/cache' }), '/explicit');
  });

  it('opens a .tgz whose members sit at the top level', async () => {
    await writeImageFolder(path.join(work, 'flat'));
    const archive = path.join(work, 'flat.tgz');
    await execFileAsync('tar', ['-czf', archive, '-C', path.join(work, 'flat'), 'train', 'test']);
    assert.equal((await openDataset(archive, 'train', { cacheDir })).size, 5);
  });

  it('reports a corrupt archive and leaves no half-extracted folder', async () => {
    const archive = path.join(work, 'broken.tar.gz');
    await fs.writeFile(archive, 'this is not gzip');
    await assert.rejects(openDataset(archive, 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(error.message.includes(`Cannot extract ${archive}`), error.message);
      return true;
    });
    assert.deepEqual(await fs.readdir(cacheDir), []);
  });

  it('names a missing dataset', async () => {
    const missing = path.join(work, 'nope');
    await assert.rejects(openDataset(missing, 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(error.message.includes(`Dataset ${missing} does not exist`), error.message);
      return true;
    });
  });

  it('lists the expected layouts when none is recognised', async () => {
    await fs.mkdir(path.join(work, 'odd/stuff'), { recursive: true });
    await assert.rejects(openDataset(path.join(work, 'odd'), 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.match(error.message, /odd has no recognised dataset layout \(found: stuff\)/);
      assert.match(error.message, /CIFAR-10 binary/);
      assert.match(error.message, /image folder/);
      return true;
    });
  });

  it('rejects a plain file that is not an archive', async () => {
    const file = path.join(work, 'data.zip');
    await fs.writeFile(file, 'zip');
    await assert.rejects(openDataset(file, 'train', { cacheDir }), /neither a folder nor a \.tar\.gz/);
  });
});
