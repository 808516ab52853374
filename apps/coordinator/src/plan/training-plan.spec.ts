import * as assert from 'node:assert/strict';
import { checkpointDue, evalDue } from './training-plan';

/** The steps after which `due` holds, for one step at a time from step 0 to `totalSteps`. */
function dueAfter(due: (stepsBefore: number, stepsDone: number) => boolean, totalSteps: number): number[] {
  return Array.from({ length: totalSteps }, (_unused, step) => step).filter((step) => due(step, step + 1));
}

describe('training plan: what falls due', () => {
  it('checkpoints every checkpointEvery steps, at the end, and after a local-SGD round that passes either', () => {
    const spec = { checkpointEvery: 4, totalSteps: 10 };
    assert.deepEqual(
      dueAfter((before, done) => checkpointDue(spec, before, done), 10),
      [3, 7, 9],
    );
    assert.equal(checkpointDue(spec, 2, 5), true, 'a round from step 2 to 5 passes step 4');
    assert.equal(checkpointDue(spec, 4, 7), false);
    assert.equal(checkpointDue({ checkpointEvery: 0, totalSteps: 10 }, 2, 3), false);
  });

  it('evaluates every evalEvery epochs and at the end, never when evalEvery is 0', () => {
    const spec = { evalEvery: 2, stepsPerEpoch: 3, totalSteps: 14 };
    assert.deepEqual(
      dueAfter((before, done) => evalDue(spec, before, done), 14),
      [5, 11, 13],
    );
    assert.equal(evalDue(spec, 4, 7), true, 'a round from step 4 to 7 passes epoch 2');
    assert.equal(evalDue({ ...spec, evalEvery: 0 }, 4, 7), false);
  });
});
