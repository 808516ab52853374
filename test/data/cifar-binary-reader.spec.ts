import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CIFAR10_CLASS_NAMES, DatasetError, imageAt, readCifarBinary } from '@resnet/data';
import { cifarRecord, makeTempDir, removeDir, writeCifarBinary } from './fixtures';

describe('data/readCifarBinary', () => {
  let root: string;
  let binFolder: string;

  beforeEach(async () => {
    root = await makeTempDir('cifar');
    binFolder = path.join(root, 'cifar-10-batches-bin');
    await writeCifarBinary(binFolder, 3);
  });
  afterEach(() => removeDir(root));

  it('reads all five train batches in order, converting CHW records to HWC', async () => {
    const table = await readCifarBinary(binFolder, 'train');
    assert.equal(table.size, 15);
    assert.equal(table.height, 32);
    assert.equal(table.width, 32);
    assert.equal(table.channels, 3);
    assert.deepEqual(table.classNames, CIFAR10_CLASS_NAMES);
    assert.equal(table.images.length, 15 * 3072);
    // Record r of file f has label (f + r) % 10 and pixel seed 17f + r.
    const expectedLabels = Array.from({ length: 15 }, (_, i) => (Math.floor(i / 3) + (i % 3)) % 10);
    assert.deepEqual([...table.labels], expectedLabels);
    const record = cifarRecord(0, 17 * 4 + 2);
    const image = imageAt(table, 14);
    for (const p of [0, 1, 31, 32, 500, 1023]) {
      for (let c = 0; c < 3; c++)
        assert.equal(image[3 * p + c], record[1 + c * 1024 + p], `pixel ${p} channel ${c}`);
    }
  });

  it('reads the test batch, from the parent folder too, with class names from batches.meta.txt', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    await fs.writeFile(path.join(binFolder, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
    const table = await readCifarBinary(root, 'test');
    assert.equal(table.size, 3);
    assert.deepEqual(table.classNames, names);
    assert.deepEqual([...table.labels], [5, 6, 7]);
  });

  it('rejects a truncated batch, naming the file and the record size', async () => {
    const file = path.join(binFolder, 'data_batch_2.bin');
    await fs.truncate(file, 3073 * 2 + 100);
    await assert.rejects(readCifarBinary(binFolder, 'train'), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.match(error.message, /data_batch_2\.bin is truncated/);
      assert.match(error.message, /3073/);
      return true;
    });
  });

  it('names a missing batch file', async () => {
    await fs.rm(path.join(binFolder, 'data_batch_4.bin'));
    await assert.rejects(readCifarBinary(binFolder, 'train'), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(error.message.includes(path.join(binFolder, 'data_batch_4.bin')), error.message);
      assert.match(error.message, /is missing/);
      return true;
    });
  });

  it('rejects labels beyond the class list', async () => {
    await fs.writeFile(path.join(binFolder, 'test_batch.bin'), cifarRecord(10, 0));
    await assert.rejects(readCifarBinary(binFolder, 'test'), /label 10 but there are only 10 classes/);
  });

  it('explains what it expected when the folder has no CIFAR data', async () => {
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty);
    await assert.rejects(readCifarBinary(empty, 'train'), (error: Error) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(error.message.includes(empty));
      assert.match(error.message, /data_batch_1\.bin/);
      return true;
    });
  });
});
