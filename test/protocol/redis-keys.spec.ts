import * as assert from 'node:assert/strict';
import { CLUSTER_SLOTS, hashSlot, RedisKeys } from '@resnet/protocol';

describe('RedisKeys.partition', () => {
  it('keeps the keys of an unsplit model under the prefix, as before partitions', () => {
    const keys = new RedisKeys('rc').partition(0, 1);
    assert.equal(keys.weights('j', 3), 'rc:job:j:weights:3');
    assert.equal(keys.gradient('j', 3, 1), 'rc:job:j:grad:3:1');
    assert.equal(keys.momentum('j'), 'rc:job:j:momentum');
  });

  it("puts each partition's keys in one slot of its own share of the slot range", () => {
    const count = 3;
    for (const prefix of ['rc', '{rc}']) {
      const slots = Array.from({ length: count }, (_, p) => {
        const keys = new RedisKeys(prefix).partition(p, count);
        const slot = hashSlot(keys.weights('j', 0));
        for (const key of [
          keys.weights('j', 9),
          keys.weightsStaged('j', 9, 4),
          keys.momentum('j'),
          keys.momentumStaged('j', 9, 4),
          keys.gradient('j', 9, 2),
        ])
          assert.equal(hashSlot(key), slot, key);
        return slot;
      });
      slots.forEach((slot, p) => {
        assert.ok(
          slot >= (p * CLUSTER_SLOTS) / count && slot < ((p + 1) * CLUSTER_SLOTS) / count,
          `${prefix} ${p}: ${slot}`,
        );
      });
    }
    // Clusters sharing a Redis under other prefixes get other keys.
    assert.notEqual(
      new RedisKeys('a').partition(1, 2).weights('j', 0),
      new RedisKeys('b').partition(1, 2).weights('j', 0),
    );
  });

  it('refuses a partition outside the count', () => {
    assert.throws(() => new RedisKeys().partition(2, 2), RangeError);
  });
});
