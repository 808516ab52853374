import * as assert from 'node:assert/strict';
import { LeadershipLostError } from './leadership.errors';
import * as reasons from './training.errors';

describe('JobStoppedError', () => {
  it('is the base of every stopped-not-failed reason, each named after its class', () => {
    const classes = [...Object.values(reasons), LeadershipLostError];
    assert.equal(classes.length, 7);
    for (const Reason of classes) {
      const err = new Reason('why');
      assert.ok(err instanceof reasons.JobStoppedError);
      assert.equal(String(err), `${Reason.name}: why`);
    }
  });
});
