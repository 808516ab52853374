import { ModelLayouts } from '@resnet/model';
import { ShardContribution } from '@resnet/optimizer';
import { ReusableBuffer, ShardOutcome } from '@resnet/protocol';
import { checkedShardMessage, ExpectedMessage, ShardMessageError } from '@resnet/job';
import { RejectedShardResultError } from '../errors/shard.errors';

export type { ExpectedMessage } from '@resnet/job';

/**
 * Checks a training shard's result before it may touch the weights: the message must pass
 * checkedShardMessage (decodes against the model, of the job's kind, addressed to the task, every
 * number finite), and the loss must be finite. Anything else is rejected, blamed on the worker,
 * and the shard is recomputed. (An honest worker that sees non-finite numbers says so instead of
 * sending them: see ShardOutcome.nonFinite.) A half-precision message is widened into `widenInto`.
 */
export function validatedContribution(
  layouts: ModelLayouts,
  outcome: ShardOutcome,
  message: Buffer | null,
  expected: ExpectedMessage,
  widenInto?: ReusableBuffer,
): ShardContribution {
  if (!outcome.gradientKeys?.[expected.partition] || !message) {
    // Not the worker's doing as far as anyone can tell: Redis may have lost it, or a coordinator freed it.
    throw new RejectedShardResultError('its gradient message is missing', {
      countsAgainstShard: true,
      blamesWorker: false,
    });
  }
  if (!Number.isFinite(outcome.lossSum)) throw new RejectedShardResultError(`its loss is ${outcome.lossSum}`);
  let checked;
  try {
    checked = checkedShardMessage(layouts, message, expected, widenInto);
  } catch (err) {
    if (err instanceof ShardMessageError) throw new RejectedShardResultError(err.message);
    throw err;
  }
  return {
    gradientSum: checked.params,
    batchStats: checked.state,
    count: outcome.count,
    lossSum: outcome.lossSum,
    correct: outcome.correct,
  };
}
