import * as assert from 'node:assert/strict';
import { architectureFor, layoutsOf } from '@resnet/model';
import { ShardOutcome } from '@resnet/protocol';
import { ModelTensorCodec } from '@resnet/job';
import { RejectedShardResultError } from '../errors/shard.errors';
import { ExpectedMessage, validatedContribution } from './shard-result.validator';

const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 4 }));
const expected: ExpectedMessage = { jobId: 'j', step: 3, shard: 1, partition: 0, kind: 'gradient' };
const message = ModelTensorCodec.encode(
  layouts,
  new Float32Array(layouts.params.size).fill(0.5),
  new Float32Array(layouts.state.size),
  expected,
);

function outcome(gradientKeys?: readonly string[]): ShardOutcome {
  return { workerId: 'w', lossSum: 1, correct: 0, count: 8, computeMs: 1, gradientKeys };
}

describe('validatedContribution', () => {
  it('takes a message whose key the outcome names for its partition', () => {
    assert.equal(validatedContribution(layouts, outcome(['k']), message, expected).count, 8);
  });

  it('refuses an outcome that names no key for the partition, without blaming the worker', () => {
    for (const keys of [undefined, [], ['k']]) {
      const partition = keys?.length === 1 ? 1 : 0;
      assert.throws(
        () => validatedContribution(layouts, outcome(keys), message, { ...expected, partition }),
        (err: Error) =>
          err instanceof RejectedShardResultError &&
          /gradient message is missing/.test(err.message) &&
          !err.blame.blamesWorker,
      );
    }
  });

  it('refuses a message of no kind', () => {
    const header = { jobId: 'j', step: 3, shard: 1, partition: 0 };
    const kindless = ModelTensorCodec.encode(
      layouts,
      new Float32Array(layouts.params.size),
      new Float32Array(layouts.state.size),
      header,
    );
    assert.throws(
      () => validatedContribution(layouts, outcome(['k']), kindless, expected),
      /a message of no kind where the job's synchronous SGD needs a gradient/,
    );
  });
});
