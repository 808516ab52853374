import { ModelLayouts } from '@resnet/model';
import { VectorKernels } from '@resnet/optimizer';
import { CodecError, ReusableBuffer, ShardMessageMeta } from '@resnet/protocol';
import { ShardMessageError } from './errors/shard-message.error';
import { ModelTensorCodec } from './model-tensor-codec';

/** The header a shard's message must carry: the task's job, step (a round's first) and shard, the job's kind, and its partition (or unit). */
export type ExpectedMessage = Required<ShardMessageMeta>;

/** The first value that is NaN or infinite, or -1; the fast check first, the search only when it fails. */
function firstNonFinite(values: Float32Array): number {
  if (VectorKernels.get().allFinite(values)) return -1;
  return values.findIndex((v) => !Number.isFinite(v));
}

/**
 * Checks one message of a training shard against the part of the model it must hold: it decodes
 * (checksum, size, tensor names and shapes), is of the job's kind (a gradient, or a local-SGD
 * round's delta), is addressed to the task (job, step, shard, partition), and every number is
 * finite. Throws ShardMessageError otherwise. The coordinator checks whole partitions with it and
 * a summation service its units. A half-precision message is widened into `widenInto`.
 */
export function checkedShardMessage(
  layouts: ModelLayouts,
  message: Buffer,
  expected: ExpectedMessage,
  widenInto?: ReusableBuffer,
): { readonly params: Float32Array; readonly state: Float32Array } {
  let decoded;
  try {
    decoded = ModelTensorCodec.decode<Partial<ShardMessageMeta> | undefined>(layouts, message, {
      into: widenInto,
    });
  } catch (err) {
    if (err instanceof CodecError)
      throw new ShardMessageError(`its gradient message is unusable: ${err.message}`);
    throw err;
  }
  const kind = decoded.meta?.kind;
  if (kind !== expected.kind) {
    throw new ShardMessageError(
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
    throw new ShardMessageError(
      `its message is addressed to job ${jobId}, step ${step}, shard ${shard}, partition ${partition}, not to job ${expected.jobId}, step ${expected.step}, shard ${expected.shard}, partition ${expected.partition}`,
    );
  }
  const bad = firstNonFinite(decoded.params);
  if (bad >= 0) throw new ShardMessageError(`gradient value ${bad} is ${decoded.params[bad]}`);
  const badStat = firstNonFinite(decoded.state);
  if (badStat >= 0) throw new ShardMessageError(`batch statistic ${badStat} is ${decoded.state[badStat]}`);
  return { params: decoded.params, state: decoded.state };
}
