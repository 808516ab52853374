import * as assert from 'node:assert/strict';
import { ReusableBuffer } from '@resnet/protocol';
import { BlobConnection, RedisReplyError } from '@resnet/redis-blobs';
import { EmbeddedRedis } from '@resnet/local-cluster';

describe('BlobConnection', function () {
  let redis: EmbeddedRedis;
  let blobs: BlobConnection;
  before(async () => {
    redis = await EmbeddedRedis.start();
    blobs = BlobConnection.open(redis.url);
  });
  after(async () => {
    blobs.close();
    await redis.destroy();
  });

  it('stores and reads back values of any size, into memory the caller reuses', async () => {
    const into = new ReusableBuffer();
    const big = Buffer.alloc(9 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 997) big[i] = i % 251;
    await Promise.all([
      blobs.set('big', big, 60),
      blobs.set('empty', Buffer.alloc(0)),
      blobs.set('small', Buffer.from('x\r\ny')),
    ]);
    const read = await blobs.get('big', into);
    assert.ok(read && read.equals(big));
    assert.equal(
      (await blobs.get('big', into))?.buffer,
      read.buffer,
      'the second read lands in the same memory',
    );
    assert.equal((await blobs.get('empty', new ReusableBuffer()))?.length, 0);
    assert.equal((await blobs.get('small', new ReusableBuffer()))?.toString(), 'x\r\ny');
    assert.equal(await blobs.get('missing', new ReusableBuffer()), null);
  });

  it('passes Redis errors on', async () => {
    await assert.rejects(blobs.set('bad', Buffer.from('v'), -5), RedisReplyError);
    assert.equal((await blobs.get('small', new ReusableBuffer()))?.toString(), 'x\r\ny', 'and keeps working');
  });

  it('waits out a Redis restart and sends again what was not answered', async () => {
    await redis.stop();
    const pending = blobs.get('big', new ReusableBuffer());
    await new Promise((r) => setTimeout(r, 300));
    await redis.launch(); // the append-only file brings the values back
    assert.equal((await pending)?.length, 9 * 1024 * 1024 + 3);
  });
});
