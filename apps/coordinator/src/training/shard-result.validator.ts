import { ModelLayouts } from '@resnet/model';
import { ShardContribution, VectorKernels } from '@resnet/optimizer';
import { CodecError, ReusableBuffer, ShardMessageMeta, ShardOutcome } from '@resnet/protocol';
import { ModelTensorCodec } from '@resnet/job';
import { RejectedShardResultError } from '../errors/shard.errors';

/** The first value that is NaN or infinite, or -1; the fast check first, the search only when it fails. */
function firstNonFinite(values: Float32Array): number {
  if (VectorKernels.get().allFinite(values)) return -1;
  return values.findIndex((v) => !Number.isFinite(v));
}

/** The header a shard's message must carry: the task's job, step (a round's first) and shard, the job's kind, and its partition. */
export type ExpectedMessage = Required<ShardMessageMeta>;

/**
 * Checks a training shard's result before it may touch the weights: the message must decode
 * against the model (checksum, size, tensor names and shapes), be of the kind the job expects (a
 * gradient, or a local-SGD round's delta), be addressed to the task (a message of another job,
 * step or shard, or a weights version, is refused), and every number must be finite. Anything else is
 * rejected, blamed on the worker, and the shard is recomputed. (An honest worker that sees
 * non-finite numbers says so instead of sending them: see ShardOutcome.nonFinite.)
 * A half-precision message is widened into `widenInto`.
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
  let decoded;
  try {
    decoded = ModelTensorCodec.decode<Partial<ShardMessageMeta> | undefined>(layouts, message, {
      into: widenInto,
    });
  } catch (err) {
    if (err instanceof CodecError)
      throw new RejectedShardResultError(`its gradient message is unusable: ${err.message}`);
    throw err;
  }
  const kind = decoded.meta?.kind;
  if (kind !== expected.kind) {
    throw new RejectedShardResultError(
      `it sent ${kind ? `a ${kind}` : 'a message of no kind'} where the job's ${expected.kind === 'delta' ? 'local SGD needs a delta' : 'synchronous SGD needs a gradient'}`,
    );
  }
  const { jobId, step, shard, partition = 0 } = decoded.meta ?? {};
  if (
    jobId !== expected.jobId ||
    step !== expected.step ||
    shard !== expected.shard ||
    partition !== expected.partition
  ) {
    throw new RejectedShardResultError(
      `its message is addressed to job ${jobId}, step ${step}, shard ${shard}, partition ${partition}, not to job ${expected.jobId}, step ${expected.step}, shard ${expected.shard}, partition ${expected.partition}`,
    );
  }
  const bad = firstNonFinite(decoded.params);
  if (bad >= 0) throw new RejectedShardResultError(`gradient value ${bad} is ${decoded.params[bad]}`);
  const badStat = firstNonFinite(decoded.state);
  if (badStat >= 0)
    throw new RejectedShardResultError(`batch statistic ${badStat} is ${decoded.state[badStat]}`);
  return {
    gradientSum: decoded.params,
    batchStats: decoded.state,
    count: outcome.count,
    lossSum: outcome.lossSum,
    correct: outcome.correct,
  };
}
