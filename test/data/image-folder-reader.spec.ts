import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DatasetError, imageAt, readImageFolder } from '@resnet/data';
import { gradientPixels, makeTempDir, removeDir, writeImage, writeImageFolder } from './fixtures';

describe('data/readImageFolder', () => {
  let root: string;
  let cacheDir: string;

  beforeEach(async () => {
    root = await makeTempDir('images');
    cacheDir = await makeTempDir('cache');
    await writeImageFolder(root);
  });
  afterEach(async () => {
    await removeDir(root);
    await removeDir(cacheDir);
  });

  it('labels images by sorted class folder and orders files by name', async () => {
    const table = await readImageFolder(root, 'train', { cacheDir });
    assert.deepEqual(table.classNames, ['cat', 'dog']);
    assert.equal(table.size, 5);
    assert.equal(table.height, 4);
    assert.equal(table.width, 4);
    assert.equal(table.images.length, 5 * 4 * 4 * 3);
    // cat/a.png, cat/b.png, cat/c.jpg, dog/x.jpeg, dog/y.png
    assert.deepEqual([...table.labels], [0, 0, 0, 1, 1]);
    assert.deepEqual(
      imageAt(table, 0),
      new Uint8Array(gradientPixels(4, 4, 10)),
      'PNG pixels exact, HWC RGB',
    );
    assert.deepEqual(imageAt(table, 1), new Uint8Array(gradientPixels(4, 4, 20)));
    assert.deepEqual(imageAt(table, 4), new Uint8Array(gradientPixels(4, 4, 50)));
    const jpegExpected = gradientPixels(4, 4, 40);
    imageAt(table, 3).forEach((value, i) =>
      assert.ok(Math.abs(value - jpegExpected[i]) <= 10, `JPEG byte ${i}`),
    );
  });

  it('caches the decoded table and reuses it until a file changes', async () => {
    // A whole-second mtime, so that it can be restored exactly after overwriting the file.
    const file = path.join(root, 'train/cat/b.png');
    const mtime = new Date('2024-01-02T03:04:05Z');
    await fs.utimes(file, mtime, mtime);
    const first = await readImageFolder(root, 'train', { cacheDir });
    const cacheFiles = (await fs.readdir(cacheDir)).filter((name) => name.endsWith('.table'));
    assert.equal(cacheFiles.length, 1);
    assert.ok(!(await fs.readdir(cacheDir)).some((name) => name.endsWith('.tmp')), 'no staging file left');

    // Garbage of the same length with the old mtime: only a cache hit can still read it.
    await fs.writeFile(file, Buffer.alloc((await fs.stat(file)).size, 7));
    await fs.utimes(file, mtime, mtime);
    const second = await readImageFolder(root, 'train', { cacheDir });
    assert.deepEqual(second, first);

    const later = new Date(mtime.getTime() + 5000);
    await fs.utimes(file, later, later);
    await assert.rejects(readImageFolder(root, 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.match(error.message, /Cannot decode image .*train\/cat\/b\.png/);
      return true;
    });
  });

  it('keys the cache by split and size option', async () => {
    await readImageFolder(root, 'train', { cacheDir });
    await readImageFolder(root, 'test', { cacheDir });
    const resized = await readImageFolder(root, 'train', { cacheDir, size: [2, 3] });
    assert.equal(resized.height, 2);
    assert.equal(resized.width, 3);
    assert.equal(resized.images.length, 5 * 2 * 3 * 3);
    assert.equal((await fs.readdir(cacheDir)).length, 3);
  });

  it('turns greyscale and RGBA images into RGB', async () => {
    await sharp(Buffer.alloc(16, 90), { raw: { width: 4, height: 4, channels: 1 } })
      .png()
      .toFile(path.join(root, 'train/dog/grey.png'));
    await sharp(Buffer.alloc(64, 200), { raw: { width: 4, height: 4, channels: 4 } })
      .png()
      .toFile(path.join(root, 'train/dog/rgba.png'));
    const table = await readImageFolder(root, 'train', { cacheDir });
    assert.deepEqual(imageAt(table, 3), new Uint8Array(48).fill(90));
    assert.deepEqual(imageAt(table, 4), new Uint8Array(48).fill(200));
  });

  it('names the first image whose size differs, unless a size is given', async () => {
    await writeImage(path.join(root, 'train/dog/z.png'), gradientPixels(5, 4, 0), 5, 4, 'png');
    await writeImage(path.join(root, 'train/dog/zz.png'), gradientPixels(6, 4, 0), 6, 4, 'png');
    await assert.rejects(readImageFolder(root, 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.match(error.message, /dog\/z\.png is 5x4 \(height x width\) but .*cat\/a\.png is 4x4/);
      return true;
    });
    const table = await readImageFolder(root, 'train', { cacheDir, size: [4, 4] });
    assert.equal(table.size, 7);
  });

  it('names an undecodable image', async () => {
    await fs.writeFile(path.join(root, 'train/dog/broken.jpg'), 'not a jpeg');
    await assert.rejects(readImageFolder(root, 'train', { cacheDir }), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(error.message.includes(path.join(root, 'train/dog/broken.jpg')), error.message);
      return true;
    });
  });

  it('rejects a class folder without images', async () => {
    await fs.mkdir(path.join(root, 'train/emu'));
    await fs.writeFile(path.join(root, 'train/emu/notes.txt'), 'no images here');
    await assert.rejects(
      readImageFolder(root, 'train', { cacheDir }),
      /Class folder .*train\/emu has no images/,
    );
  });

  it('rejects a missing split, listing what is there', async () => {
    await assert.rejects(
      readImageFolder(root, 'val', { cacheDir }),
      /No 'val' folder in .*found: test, train/,
    );
  });

  it('rejects a split whose classes differ from train', async () => {
    await writeImage(path.join(root, 'test/emu/e.png'), gradientPixels(4, 4, 0), 4, 4, 'png');
    await assert.rejects(
      readImageFolder(root, 'test', { cacheDir }),
      /differ from .*train; not in train: emu/,
    );
  });

  it('rejects a malformed size option', async () => {
    await assert.rejects(readImageFolder(root, 'train', { cacheDir, size: [0, 4] }), DatasetError);
  });
});
