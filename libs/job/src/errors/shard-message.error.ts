/** A training shard's message that must not be used: undecodable, of the wrong kind or address, or non-finite. */
export class ShardMessageError extends Error {
  override readonly name = 'ShardMessageError';
}
