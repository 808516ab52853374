import assert from 'node:assert/strict';
import { epochPermutation, hashSeed, mulberry32, randomInt } from '@resnet/data';

describe('data/random', () => {
  it('mulberry32 is deterministic and uniform in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const value = a();
      assert.equal(value, b());
      assert.ok(value >= 0 && value < 1);
      sum += value;
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02, `mean ${sum / 10_000}`);
    assert.notEqual(mulberry32(1)(), mulberry32(2)());
  });

  it('randomInt stays in range and hits every value', () => {
    const random = mulberry32(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const value = randomInt(random, 9);
      assert.ok(Number.isInteger(value) && value >= 0 && value < 9);
      seen.add(value);
    }
    assert.equal(seen.size, 9);
  });

  it('hashSeed is a deterministic 32-bit mix that depends on order and on every input', () => {
    const seed = hashSeed(1, 2, 3);
    assert.equal(seed, hashSeed(1, 2, 3));
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
    assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
    assert.notEqual(hashSeed(1, 2), hashSeed(1, 3));
    assert.notEqual(hashSeed(1), hashSeed(1, 0));
    assert.notEqual(hashSeed(2 ** 32 + 1), hashSeed(1), 'high bits of large seeds count');
    assert.notEqual(hashSeed(-1), hashSeed(2 ** 32 - 1));
    assert.throws(() => hashSeed(1.5), RangeError);
  });

  it('epochPermutation is a reproducible permutation that changes with seed and epoch', () => {
    const order = epochPermutation(5, 0, 1000);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(order, epochPermutation(5, 0, 1000));
    assert.notDeepEqual(order, epochPermutation(5, 1, 1000));
    assert.notDeepEqual(order, epochPermutation(6, 0, 1000));
    assert.deepEqual([...epochPermutation(5, 0, 1)], [0]);
    assert.equal(epochPermutation(5, 0, 0).length, 0);
  });
});
