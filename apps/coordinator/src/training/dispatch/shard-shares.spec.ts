import * as assert from 'node:assert/strict';
import { ShardShares } from './shard-shares';

describe('ShardShares', () => {
  it('gives jobs of weights 1 and 3 one and three of 4 workers', () => {
    const shares = new ShardShares();
    shares.join('light', 1);
    shares.join('heavy', 3);
    assert.deepEqual([shares.quota('light', 4), shares.quota('heavy', 4)], [1, 3]);
    assert.deepEqual([shares.quota('light', 8), shares.quota('heavy', 8)], [2, 6]);
  });

  it('leaves every job at least one shard, and a job alone unshared', () => {
    const shares = new ShardShares();
    shares.join('solo', 1);
    assert.equal(shares.shared('solo'), false);
    shares.join('heavy', 10);
    assert.equal(shares.shared('solo'), true);
    assert.equal(shares.quota('solo', 4), 1);
    shares.leave('heavy');
    assert.equal(shares.shared('solo'), false);
  });
});
