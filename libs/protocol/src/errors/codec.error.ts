/** A tensor message that cannot be trusted: truncated, corrupted, or not matching the expected layout. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}
